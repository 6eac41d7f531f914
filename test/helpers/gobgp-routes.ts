/**
 * GoBGP's own view of its routes, from `gobgp -j global rib -a <family>`: what the peer
 * really holds, read with the peer's CLI rather than vipkit's codec. Attribute values in
 * the text forms vipkit prints (communities "65002:100", large ones "65002:7:8").
 */
export interface GobgpRoute {
  prefix: string;
  origin?: 'igp' | 'egp' | 'incomplete';
  asPath?: string;
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
}

interface GobgpAttribute {
  type: number;
  value?: unknown;
  as_paths?: { segment_type: number; asns: number[] }[];
  nexthop?: string;
  metric?: number;
  communities?: number[];
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;
/** GoBGP's segment types: 1 AS_SET, 2 AS_SEQUENCE. */
const formatSegment = (segment: { segment_type: number; asns: number[] }) => (segment.segment_type === 1 ? `{${segment.asns.join(' ')}}` : segment.asns.join(' '));

/** The best path of every prefix in `gobgp -j global rib` output. */
export function parseGobgpRoutes(json: unknown): GobgpRoute[] {
  const table = (json ?? {}) as Record<string, { best?: boolean; attrs: GobgpAttribute[] }[]>;
  return Object.entries(table).map(([prefix, paths]) => {
    const path = paths.find((candidate) => candidate.best) ?? paths[0]!;
    const route: GobgpRoute = { prefix };
    for (const attribute of path.attrs) {
      switch (attribute.type) {
        case 1:
          route.origin = ORIGINS[attribute.value as number];
          break;
        case 2:
          route.asPath = (attribute.as_paths ?? []).map(formatSegment).join(' ');
          break;
        case 3:
        case 14:
          route.nextHop = attribute.nexthop;
          break;
        case 4:
          route.med = attribute.metric;
          break;
        case 5:
          route.localPref = attribute.value as number;
          break;
        case 8:
          route.communities = (attribute.communities ?? []).map((value) => `${value >>> 16}:${value & 0xffff}`);
          break;
        case 32:
          route.largeCommunities = (attribute.value as { ASN: number; LocalData1: number; LocalData2: number }[]).map((large) => `${large.ASN}:${large.LocalData1}:${large.LocalData2}`);
          break;
      }
    }
    return route;
  });
}
