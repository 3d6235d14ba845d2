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

/** `ip -j` prints nothing (not `[]`) for an empty table. */
function parseList<T>(schema: z.ZodType<T>, what: string, text: string): T[] {
  if (!text.trim()) return [];
  const json: unknown = JSON.parse(text);
  const parsed = z.array(schema).safeParse(json);
  if (!parsed.success) throw new Error(`unexpected ${what} JSON: ${parsed.error.message}`);
  return parsed.data;
}

export const parseLinks = (text: string) => parseList(Link, 'ip -j -d link', text);
export const parseAddresses = (text: string) => parseList(Address, 'ip -j addr', text);
export const parseRoutes = (text: string) => parseList(Route, 'ip -j route', text);
export const parseNeighbours = (text: string) => parseList(Neighbour, 'ip -j neigh', text);
export const parseRules = (text: string) => parseList(RoutingRule, 'ip -j rule', text);
export const parseFdb = (text: string) => parseList(FdbEntry, 'bridge -j fdb', text);

/** IPv4 addresses of an interface as "a.b.c.d/len". */
export function ipv4Of(addresses: Address[], ifname: string): string[] {
  return addresses.filter((a) => a.ifname === ifname).flatMap((a) => a.addr_info.filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`));
}
