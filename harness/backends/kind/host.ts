import { existsSync, readFileSync } from 'node:fs';

/** What this host makes a kind node need: each patch of the cluster config is switched on by one of these. */
export interface HostFacts {
  /** kubelet >= 1.35 refuses cgroup v1 unless its configuration says failCgroupV1: false. */
  cgroupV1: boolean;
  /** Without CAP_SYS_RESOURCE in the bounding set, a negative oom_score_adj fails every pod sandbox. */
  lacksSysResource: boolean;
}

const CAP_SYS_RESOURCE = 24n;

export function hostFacts(): HostFacts {
  return { cgroupV1: !existsSync('/sys/fs/cgroup/cgroup.controllers'), lacksSysResource: !hasCapability(readFileSync('/proc/self/status', 'utf8'), CAP_SYS_RESOURCE) };
}

/** Whether the CapBnd mask of a /proc/PID/status text has the capability's bit. */
export function hasCapability(status: string, capability: bigint): boolean {
  const mask = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (!mask) throw new Error('/proc/self/status has no CapBnd line');
  return ((BigInt(`0x${mask}`) >> capability) & 1n) === 1n;
}
