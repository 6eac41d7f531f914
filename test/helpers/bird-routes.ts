/**
 * BIRD's own view of its routes, from `birdc show route all`: what the peer really holds,
 * read with the peer's own CLI rather than vipkit's codec.
 */
export interface BirdRoute {
  prefix: string;
  /** The protocol that brought it, e.g. `speaker1`. */
  protocol: string;
  /** `BGP.<name>` lines: origin, as_path, next_hop, med, local_pref, community, large_community... */
  bgp: Record<string, string>;
}

/**
 * Parses `show route all`. A route starts on a line with a prefix; a line starting with
 * blanks and a protocol in brackets is another path for the same prefix; `BGP.x: value`
 * lines belong to the path above them.
 */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let prefix = '';
  for (const line of text.split('\n')) {
    const start = /^(\S+\/\d+)\s+\w+\s+\[(\S+)/.exec(line) ?? /^\s+\w+\s+\[(\S+)/.exec(line);
    if (start && !line.startsWith('\t')) {
      if (start.length === 3) prefix = start[1]!;
      routes.push({ prefix, protocol: start.at(-1)!, bgp: {} });
      continue;
    }
    const attribute = /^\s+BGP\.(\w+): (.*)$/.exec(line);
    if (attribute && routes.length > 0) routes.at(-1)!.bgp[attribute[1]!] = attribute[2]!.trim();
  }
  return routes;
}
