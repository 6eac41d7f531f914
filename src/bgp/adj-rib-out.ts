import { packUpdates, packWithdrawals } from '../wire/bgp/pack.js';
import type { SessionCodecContext } from '../wire/bgp/registry.js';
import type { RouteAttributes } from '../wire/bgp/route-attributes.js';

/** What we want the peer to have: prefix -> its attributes (no object per prefix, which counts with a million of them). */
export type DesiredRoutes = ReadonlyMap<string, RouteAttributes>;

/**
 * What we announced to one peer (RFC 4271 3.2, Adj-RIB-Out), kept declaratively (after
 * MetalLB's Session.Set): `set(desired)` compares the wish with what the peer was sent and
 * returns the UPDATEs that make the peer agree — prefixes sharing one attribute set packed
 * into as few messages as fit, withdrawals likewise. `announce` goes through it.
 */
export class AdjRibOut {
  /** Prefix -> the key of the attributes it was sent with. */
  private sent = new Map<string, string>();

  get size(): number {
    return this.sent.size;
  }

  set(desired: DesiredRoutes, context: SessionCodecContext): Buffer[] {
    const withdrawals = [...this.sent.keys()].filter((prefix) => !desired.has(prefix));
    const groups = new Map<string, { attributes: RouteAttributes; prefixes: string[] }>();
    for (const [prefix, attributes] of desired) {
      const key = attributeKey(attributes);
      if (this.sent.get(prefix) === key) continue;
      const group = groups.get(key) ?? groups.set(key, { attributes, prefixes: [] }).get(key)!;
      group.prefixes.push(prefix);
    }
    const messages = withdrawals.length > 0 ? packWithdrawals(withdrawals, context) : [];
    for (const prefix of withdrawals) this.sent.delete(prefix);
    for (const [key, { attributes, prefixes }] of groups) {
      messages.push(...packUpdates(attributes, prefixes, context));
      for (const prefix of prefixes) this.sent.set(prefix, key);
    }
    return messages;
  }

  /** A new session knows nothing we sent before: everything desired goes again. */
  resend(desired: DesiredRoutes, context: SessionCodecContext): Buffer[] {
    this.sent.clear();
    return this.set(desired, context);
  }
}

/** Keys by object: many prefixes share one attribute object, which is serialised once. */
const keys = new WeakMap<RouteAttributes, string>();

/** Equal attributes give equal keys: our attribute objects are built in one fixed field order. */
function attributeKey(attributes: RouteAttributes): string {
  let key = keys.get(attributes);
  if (key === undefined) keys.set(attributes, (key = JSON.stringify(attributes)));
  return key;
}
