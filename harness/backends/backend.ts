import { type ClusterAccess } from '../../src/access.js';

export interface ClusterNode {
  name: string;
  role: 'control-plane' | 'worker';
  ip: string;
}

/** A running cluster as the runner and the library see it, whichever backend made it. */
export interface Cluster {
  backend: string;
  name: string;
  kubeconfig: string;
  nodes: ClusterNode[];
  access: ClusterAccess;
  /** What firedrill added to a cluster it did not create (probe pods, host rules), removed when the command ends. */
  release?: () => Promise<void>;
}

export interface UpRequest {
  name: string;
  nodes: number;
  podsPerNode: number;
  say: (line: string) => void;
}

/** One interface for lab, docker and kind (kind's own providers have the same shape: a node is something you exec in). */
export interface Backend {
  readonly name: string;
  up(request: UpRequest): Promise<Cluster>;
  down(name: string, say: (line: string) => void): Promise<void>;
  /** The running cluster of that name, or an error saying how to create it. */
  get(name: string): Promise<Cluster>;
  list(): Promise<string[]>;
  /** Where firedrill keeps what it knows of a cluster (what `inject` did, for `restore`). */
  stateDir(name: string): string;
}
