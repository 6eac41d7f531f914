/**
 * A table keyed by address, kept in pages of 256 consecutive addresses (an IPv4 /24): one
 * array slot per address held, and one map entry per page. Addresses handed out lowest
 * first fill pages densely, so 100,000 of them cost 400 map entries rather than 100,000,
 * and neighbours share a page rather than scattering through a hash table.
 */
const PAGE_BITS = 8n;
const OFFSET_MASK = 0xffn;

export class AddressTable<V> {
  private readonly pages = new Map<bigint, (V | undefined)[]>();

  get(value: bigint): V | undefined {
    return this.pages.get(value >> PAGE_BITS)?.[Number(value & OFFSET_MASK)];
  }

  set(value: bigint, entry: V): void {
    const key = value >> PAGE_BITS;
    let page = this.pages.get(key);
    if (!page) {
      page = [];
      this.pages.set(key, page);
    }
    page[Number(value & OFFSET_MASK)] = entry;
  }

  delete(value: bigint): void {
    const key = value >> PAGE_BITS;
    const page = this.pages.get(key);
    const offset = Number(value & OFFSET_MASK);
    if (page?.[offset] === undefined) return;
    page[offset] = undefined;
    if (page.every((entry) => entry === undefined)) this.pages.delete(key);
  }

  /** Every address held and its entry, in no particular order. */
  *entries(): IterableIterator<[bigint, V]> {
    for (const [key, page] of this.pages) {
      for (const [offset, entry] of page.entries()) {
        if (entry !== undefined) yield [(key << PAGE_BITS) | BigInt(offset), entry];
      }
    }
  }
}
