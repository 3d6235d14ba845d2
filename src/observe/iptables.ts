import { splitArgs } from '../argv.js';

/**
 * A parsed `iptables-save`: tables -> chains (with policy) -> rules in order. Rules are
 * kept as their argument lists, so checks can ask "which rule comes first" and "what does
 * it match" without a full iptables grammar.
 */
export interface IptablesRule {
  chain: string;
  /** Position within the chain, from 1, as `iptables -L --line-numbers` counts. */
  position: number;
  args: string[];
  target?: string;
  text: string;
}

export interface IptablesChain {
  name: string;
  policy?: string;
  rules: IptablesRule[];
}

export type IptablesTables = Record<string, Record<string, IptablesChain>>;

export function parseIptablesSave(text: string): IptablesTables {
  const tables: IptablesTables = {};
  let table: Record<string, IptablesChain> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = tables[line.slice(1)] = {};
      continue;
    }
    if (!table) continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      table[name!] = { name: name!, ...(policy && policy !== '-' ? { policy } : {}), rules: [] };
      continue;
    }
    if (line.startsWith('-A ')) {
      const args = splitArgs(line);
      const chain = args[1]!;
      const c = (table[chain] ??= { name: chain, rules: [] });
      const j = args.indexOf('-j');
      c.rules.push({ chain, position: c.rules.length + 1, args: args.slice(2), ...(j >= 0 ? { target: args[j + 1] } : {}), text: line });
    }
  }
  return tables;
}
