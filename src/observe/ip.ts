import { z } from 'zod';

/** Parsers for `ip -j` and `bridge -j` output: only the fields the checks read, the rest passes through. */

const Link = z.looseObject({
  ifindex: z.number(),
  ifname: z.string(),
  flags: z.array(z.string()).default([]),
  mtu: z.number(),
  master: z.string().optional(),
  operstate: z.string().optional(),
  address: z.string().optional(),
  linkinfo: z
    .looseObject({
      info_kind: z.string().optional(),
      info_data: z.looseObject({ id: z.number().optional(), port: z.number().optional(), learning: z.boolean().optional(), local: z.string().optional(), link: z.string().optional() }).optional(),
      info_slave_kind: z.string().optional(),
      info_slave_data: z.looseObject({ hairpin: z.boolean().optional(), state: z.string().optional() }).optional(),
    })
    .optional(),
});
export type Link = z.infer<typeof Link>;

const Address = z.looseObject({
  ifname: z.string(),
  addr_info: z.array(z.looseObject({ family: z.string(), local: z.string(), prefixlen: z.number() })).default([]),
});
export type Address = z.infer<typeof Address>;

const Route = z.looseObject({
  dst: z.string(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  flags: z.array(z.string()).default([]),
  protocol: z.string().optional(),
  type: z.string().optional(),
  metric: z.number().optional(),
});
export type Route = z.infer<typeof Route>;

const Neighbour = z.looseObject({
  dst: z.string(),
  dev: z.string(),
  lladdr: z.string().optional(),
  state: z.array(z.string()).default([]),
});
export type Neighbour = z.infer<typeof Neighbour>;

const FdbEntry = z.looseObject({
  mac: z.string(),
  ifname: z.string().optional(),
  dst: z.string().optional(),
  master: z.string().optional(),
  flags: z.array(z.string()).default([]),
  state: z.string().optional(),
});
export type FdbEntry = z.infer<typeof FdbEntry>;

const RoutingRule = z.looseObject({
  priority: z.number(),
  src: z.string().optional(),
  srclen: z.number().optional(),
  dst: z.string().optional(),
  dstlen: z.number().optional(),
  table: z.string().optional(),
  action: z.string().optional(),
  iif: z.string().optional(),
  oif: z.string().optional(),
  fwmark: z.string().optional(),
});
export type RoutingRule = z.infer<typeof RoutingRule>;

/** A parser of one `ip -j` listing; `ip -j` prints nothing (not `[]`) for an empty table. */
function listParser<T>(schema: z.ZodType<T>, what: string): (text: string) => T[] {
  const list = z.array(schema);
  return (text) => {
    if (!text.trim()) return [];
    const parsed = list.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`unexpected ${what} JSON: ${parsed.error.message}`);
    return parsed.data;
  };
}

export const parseLinks = listParser(Link, 'ip -j -d link');
export const parseAddresses = listParser(Address, 'ip -j addr');
export const parseRoutes = listParser(Route, 'ip -j route');
export const parseNeighbours = listParser(Neighbour, 'ip -j neigh');
export const parseRules = listParser(RoutingRule, 'ip -j rule');
export const parseFdb = listParser(FdbEntry, 'bridge -j fdb');

/** IPv4 addresses of an interface as "a.b.c.d/len". */
export function ipv4Of(addresses: Address[], ifname: string): string[] {
  return addresses.filter((a) => a.ifname === ifname).flatMap((a) => a.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`));
}
