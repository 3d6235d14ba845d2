import { type ClusterAccess } from '../src/access.js';
import { type FindingKind } from '../src/findings.js';
import { type Kube } from '../src/kube/client.js';
import { type ProbeMode } from '../src/probes/probe.js';
import { type ProbeReport, failedPings } from '../src/probes/types.js';
import { type Step } from '../src/repairs/plan.js';

export interface ScenarioNode {
  name: string;
  role: 'control-plane' | 'worker';
  ip: string;
}

/** What a scenario works with: the live cluster, the node it targets, and a place to remember what it changed. */
export interface ScenarioContext {
  kube: Kube;
  access: ClusterAccess;
  nodes: ScenarioNode[];
  target: string;
  /** Values inject() saw (an original annotation…) for restore() and runbooks. */
  memo: Record<string, unknown>;
}

export interface Runbook {
  description: string;
  /** Nodes the runbook names literally (checked against the cluster before a drill). */
  nodes?: string[];
  /** What the incident report says this runbook did, if it says: the drill's verdict is compared with it. */
  incidentSays?: 'recovered' | 'did-not-recover';
  steps(ctx: ScenarioContext): Promise<Step[]>;
}

/** One real incident: how to inject it, what it must break, what must find it, and how people fixed it. */
export interface Scenario {
  id: string;
  title: string;
  incident: string;
  defaultTarget(nodes: ScenarioNode[]): string;
  /** The fault, as the argv commands and API patches it was made of. */
  inject(ctx: ScenarioContext): Promise<Step[]>;
  /** Undoes exactly what inject did (anything else is left to the library's repair). */
  restore(ctx: ScenarioContext): Promise<Step[]>;
  /**
   * `seen` may probe further (a scenario file's large-packet symptom does). `matrix`: the probe matrix
   * the symptom shows in: sampled (the default: every node pair, enough for a fault of a node, and
   * light enough not to slow the detection beside it on a large cluster) or full (a fault of one pod).
   */
  symptom: { description: string; seen(report: ProbeReport, ctx: ScenarioContext): boolean | Promise<boolean>; matrix?: ProbeMode };
  /** Connectivity is back (default: the whole matrix and DNS green). */
  recovered?(report: ProbeReport, ctx: ScenarioContext): boolean | Promise<boolean>;
  /** Finding kinds that count as detecting this fault. */
  detects: FindingKind[];
  runbooks: Record<string, Runbook>;
}

/** The target is the first worker: it hosts probe pods and often a DNS replica. */
export const firstWorker = (nodes: ScenarioNode[]) => (nodes.find((n) => n.role === 'worker') ?? nodes[0]!).name;

/** Pings between the target's pods and pods on other nodes fail. */
export function targetCutOff(report: ProbeReport, ctx: ScenarioContext): boolean {
  return failedPings(report).some((p) => (p.sourceNode === ctx.target) !== (p.targetNode === ctx.target));
}


