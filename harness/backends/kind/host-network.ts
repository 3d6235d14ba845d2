import { type Executor, networkRuleLabel } from '../../../src/access.js';
import { run } from '../../../src/exec.js';
import { usageError } from '../../errors.js';

/**
 * The network between kind nodes is a docker bridge in the host's own namespace (bridged traffic
 * crosses the host's FORWARD chain: br_netfilter). Faults outside every node go there, so this
 * executor runs on the host itself — and therefore accepts only iptables rule changes labelled
 * as this cluster's (prune removes them) and matching an address, never anything else.
 */
export function hostNetwork(name: string): Executor {
  const label = networkRuleLabel(name);
  return {
    async exec(argv, options) {
      const labelled = argv.some((a, i) => a === '--comment' && argv[i + 1] === label);
      const scoped = argv.some((a) => a === '-s' || a === '-d');
      if (argv[0] !== 'iptables' || !labelled || !scoped) {
        throw usageError(
          `refused to run on the host for kind cluster ${name}: ${argv.join(' ')}`,
          `a step aimed at the network between kind nodes must be an iptables rule with -s or -d and \`-m comment --comment ${label}\``,
        );
      }
      return run(argv, options);
    },
  };
}
