import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../harness/package-info.js';
import { type ClusterObservation } from '../../src/observe/cluster.js';
import { type NodeObservation } from '../../src/observe/node.js';

export const fixture = (...parts: string[]) => readFileSync(join(packageInfo().root, 'test', 'fixtures', ...parts), 'utf8');

/** A snapshot of a healthy 3-node lab (observeCluster with probes, serialised); a fresh deep copy each call. */
export function healthyLab(): ClusterObservation {
  const raw = JSON.parse(fixture('healthy-lab.json')) as Omit<ClusterObservation, 'state'> & { state: Record<string, NodeObservation> };
  return { ...raw, state: new Map(Object.entries(raw.state)) };
}

export const node = (obs: ClusterObservation, name: string): NodeObservation => obs.state.get(name)!;
