import type { UpdateMessage } from '../wire/bgp/update.js';
import { routeAttributes, type RouteAttributes } from '../wire/bgp/route-attributes.js';
import type { SessionCodecContext } from '../wire/bgp/registry.js';

/**
 * A route as the peer announced it. Every prefix of one UPDATE shares one attribute
 * object, so a feed of 100,000 host routes in a few hundred UPDATEs costs one small
 * object per prefix, not one attribute set per prefix.
 */
export interface ReceivedRoute {
  prefix: string;
  attributes: RouteAttributes;
}

/** What one UPDATE changed. */
export interface RibChange {
  announced: ReceivedRoute[];
  /** Prefixes withdrawn that the table held. */
  withdrawn: string[];
}

/** The routes one peer announced and has not withdrawn (RFC 4271 3.2, Adj-RIB-In). */
export class AdjRibIn {
  private readonly routes = new Map<string, ReceivedRoute>();

  get size(): number {
    return this.routes.size;
  }

  get(prefix: string): ReceivedRoute | undefined {
    return this.routes.get(prefix);
  }

  all(): IterableIterator<ReceivedRoute> {
    return this.routes.values();
  }

  /** Applies an UPDATE (already through RFC 7606 handling): withdrawals first, then announcements (RFC 4271 9.1). */
  apply(update: UpdateMessage, context: SessionCodecContext): RibChange {
    const withdrawn: string[] = [];
    for (const prefix of update.withdrawn) if (this.routes.delete(prefix)) withdrawn.push(prefix);
    const announced: ReceivedRoute[] = [];
    let attributes: RouteAttributes | undefined;
    for (const attribute of update.attributes) {
      if (attribute.type === 'mp-unreach') {
        for (const prefix of attribute.prefixes) if (this.routes.delete(prefix)) withdrawn.push(prefix);
      } else if (attribute.type === 'mp-reach') {
        attributes ??= routeAttributes(update.attributes, context);
        for (const prefix of attribute.prefixes) announced.push({ prefix, attributes });
      }
    }
    if (update.nlri.length > 0) {
      attributes ??= routeAttributes(update.attributes, context);
      for (const prefix of update.nlri) announced.push({ prefix, attributes });
    }
    for (const route of announced) this.routes.set(route.prefix, route);
    return { announced, withdrawn };
  }

  /** The session went down: every route is gone (RFC 4271 8.2.2, leaving Established). */
  clear(): string[] {
    const prefixes = [...this.routes.keys()];
    this.routes.clear();
    return prefixes;
  }
}
