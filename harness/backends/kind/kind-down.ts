import { networkRuleLabel } from '../../../src/access.js';
import { run } from '../../../src/exec.js';
import { KindCli } from './kind-cli.js';
import { kindClusterName } from './names.js';
import { removeClusterNetwork } from './network.js';
import { readKindState, removeKindState } from './state.js';

/** Removes a kind drill cluster and everything firedrill made for it: nodes, docker network, host rules, state. Idempotent. */
export async function kindDown(name: string, say: (line: string) => void, cacheRoot: string): Promise<void> {
  const clusterName = kindClusterName(name);
  const kind = await KindCli.fromCache(cacheRoot);
  const known = (await readKindState(name)) !== undefined;
  if ((await kind.clusters()).includes(clusterName)) {
    say(`kind delete cluster ${clusterName}`);
    await kind.deleteCluster(clusterName);
  } else if (!known) say(`no kind cluster ${clusterName} made by firedrill here (\`firedrill kind list\` shows them); removing any leftovers of it`);
  const label = networkRuleLabel(name);
  const rules = await removeHostRules((comment) => comment === label);
  if (rules) say(`removed ${rules} host iptables rule(s) labelled ${networkRuleLabel(name)}`);
  await removeClusterNetwork(clusterName);
  await removeKindState(name);
}

/** Deletes every rule of the host's filter table whose comment `matches`; returns how many. */
export async function removeHostRules(matches: (comment: string) => boolean): Promise<number> {
  const saved = await run(['iptables-save', '-t', 'filter'], { check: false });
  const rules = saved.stdout.split('\n').filter((l) => {
    const comment = commentOf(l);
    return l.startsWith('-A ') && comment !== undefined && matches(comment);
  });
  for (const rule of rules) await run(['iptables', '-w', '-D', ...splitRule(rule.slice(3))]);
  return rules.length;
}

const commentOf = (rule: string) => /--comment "?([^"\s]+)"?/.exec(rule)?.[1];

/** iptables-save prints each rule as its argv, with double quotes around arguments that need them. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}
