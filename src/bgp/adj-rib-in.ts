import type { UpdateMessage } from '../wire/bgp/update.js';
import { routeAttributes, type RouteAttributes } from '../wire/bgp/route-attributes.js';
import type { SessionCodecContext } from '../wire/bgp/registry.js';

/** Which route: a prefix, and its path identifier when the session negotiated ADD-PATH (RFC 7911). */
export interface RouteKey {
  prefix: string;
  pathId?: number;
}

/**
 * A route as the peer announced it. Every prefix of one UPDATE shares one attribute
 * object, so a feed of 100,000 host routes in a few hundred UPDATEs costs one small
 * object per prefix, not one attribute set per prefix.
 */
export interface ReceivedRoute extends RouteKey {
  attributes: RouteAttributes;
}

/** What one UPDATE changed. */
export interface RibChange {
  announced: ReceivedRoute[];
  /** Routes withdrawn that the table held. */
  withdrawn: RouteKey[];
}

/**
 * The routes one peer announced and has not withdrawn (RFC 4271 3.2, Adj-RIB-In). With
 * ADD-PATH a prefix may come with several paths, told apart by their identifiers (RFC 7911 3).
 */
export class AdjRibIn {
  private readonly routes = new Map<string, ReceivedRoute>();

  get size(): number {
    return this.routes.size;
  }

  get(prefix: string, pathId?: number): ReceivedRoute | undefined {
    return this.routes.get(keyOf(prefix, pathId));
  }

  all(): IterableIterator<ReceivedRoute> {
    return this.routes.values();
  }

  /** Applies an UPDATE (already through RFC 7606 handling): withdrawals first, then announcements (RFC 4271 9.1). */
  apply(update: UpdateMessage, context: SessionCodecContext): RibChange {
    const withdrawn: RouteKey[] = [];
    const withdraw = (prefixes: readonly string[], pathIds: readonly number[] | undefined) =>
      prefixes.forEach((prefix, index) => {
        const route = routeKey(prefix, pathIds?.[index]);
        if (this.routes.delete(keyOf(prefix, route.pathId))) withdrawn.push(route);
      });
    const announced: ReceivedRoute[] = [];
    let attributes: RouteAttributes | undefined;
    const announce = (prefixes: readonly string[], pathIds: readonly number[] | undefined) => {
      attributes ??= routeAttributes(update.attributes, context);
      prefixes.forEach((prefix, index) => announced.push({ ...routeKey(prefix, pathIds?.[index]), attributes: attributes! }));
    };
    withdraw(update.withdrawn, update.withdrawnPathIds);
    for (const attribute of update.attributes) {
      if (attribute.type === 'mp-unreach') withdraw(attribute.prefixes, attribute.pathIds);
      else if (attribute.type === 'mp-reach') announce(attribute.prefixes, attribute.pathIds);
    }
    if (update.nlri.length > 0) announce(update.nlri, update.nlriPathIds);
    for (const route of announced) this.routes.set(keyOf(route.prefix, route.pathId), route);
    return { announced, withdrawn };
  }

  /** The session went down: every route is gone (RFC 4271 8.2.2, leaving Established). */
  clear(): RouteKey[] {
    const routes = [...this.routes.values()].map(({ prefix, pathId }) => routeKey(prefix, pathId));
    this.routes.clear();
    return routes;
  }
}

function routeKey(prefix: string, pathId: number | undefined): RouteKey {
  return pathId === undefined ? { prefix } : { prefix, pathId };
}

function keyOf(prefix: string, pathId: number | undefined): string {
  return pathId === undefined ? prefix : `${prefix} ${pathId}`;
}
