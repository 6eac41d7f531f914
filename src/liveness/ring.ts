/**
 * The members on a ring, for BFD beyond the full mesh (membership.ts): every node orders
 * the same member list alike — by the SHA-256 digest of each name, compared bytewise, as
 * placement orders candidates (election.ts) — and watches the `k` members before and the
 * `k` after it. Watching is symmetric: A watches B exactly when B watches A, so each BFD
 * session has both its ends configured.
 */
import { createHash } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The names in ring order. */
export function ringOrder(names: readonly string[]): string[] {
  const digests = new Map(names.map((name) => [name, digest(name)]));
  return [...names].sort((a, b) => Buffer.compare(digests.get(a)!, digests.get(b)!));
}

/** The places of the `k` members before and the `k` after place `at`, without `at` itself and without repeats. */
export function ringNeighbours(size: number, at: number, k: number): number[] {
  const neighbours = new Set<number>();
  for (let step = 1; step <= k; step++) {
    neighbours.add((at + step) % size);
    neighbours.add((at - step + size * k) % size);
  }
  neighbours.delete(at);
  return [...neighbours].sort((a, b) => a - b);
}

/**
 * What nodes that agree on the ring share: the first 32 bits of a digest of the order and
 * of `k`. Messages carry it, and a node configured with another member list or another `k`
 * (whose places and neighbours mean something else) is not listened to.
 */
export function ringFingerprint(order: readonly string[], k: number): number {
  return digest(`${k}\n${order.join('\n')}`).readUInt32BE(0);
}
