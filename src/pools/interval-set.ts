/**
 * A set of integers kept as disjoint, merged intervals in a treap keyed by interval start:
 * memory grows with the number of runs held, not with the size of the space, and add,
 * remove and floor take logarithmic time (expected). The allocator keeps the addresses
 * in use here, so a /64 pool costs as little as a /30.
 */
export interface Interval {
  first: bigint;
  last: bigint;
}

interface Node extends Interval {
  priority: number;
  left?: Node;
  right?: Node;
}

export class IntervalSet {
  private root?: Node;
  private seed = 0x9e3779b9;
  private held = 0n;

  /** How many integers the set holds. */
  get size(): bigint {
    return this.held;
  }

  has(value: bigint): boolean {
    const interval = this.floor(value);
    return interval !== undefined && interval.last >= value;
  }

  /** The interval with the greatest start at or below value. */
  floor(value: bigint): Interval | undefined {
    let node = this.root;
    let best: Node | undefined;
    while (node) {
      if (node.first <= value) {
        best = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return best;
  }

  /** The smallest integer at or above value that the set does not hold. */
  nextAbsent(value: bigint): bigint {
    const interval = this.floor(value);
    return interval !== undefined && interval.last >= value ? interval.last + 1n : value;
  }

  add(value: bigint): void {
    if (this.has(value)) return;
    this.held++;
    const before = this.floor(value - 1n);
    const after = this.floor(value + 1n);
    const joinsBefore = before !== undefined && before.last === value - 1n;
    const joinsAfter = after !== undefined && after.first === value + 1n;
    if (joinsBefore && joinsAfter) {
      const last = after.last;
      this.root = remove(this.root, after.first);
      (before as Node).last = last;
    } else if (joinsBefore) {
      (before as Node).last = value;
    } else if (joinsAfter) {
      const last = after.last;
      this.root = remove(this.root, after.first);
      this.root = insert(this.root, { first: value, last, priority: this.nextPriority() });
    } else {
      this.root = insert(this.root, { first: value, last: value, priority: this.nextPriority() });
    }
  }

  delete(value: bigint): void {
    const interval = this.floor(value) as Node | undefined;
    if (interval === undefined || interval.last < value) return;
    this.held--;
    const { first, last } = interval;
    if (first === last) {
      this.root = remove(this.root, first);
    } else if (value === first) {
      this.root = remove(this.root, first);
      this.root = insert(this.root, { first: first + 1n, last, priority: this.nextPriority() });
    } else {
      interval.last = value - 1n;
      if (value !== last) this.root = insert(this.root, { first: value + 1n, last, priority: this.nextPriority() });
    }
  }

  /** xorshift32: treap priorities need only be unpredictable to the input, not random. */
  private nextPriority(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}

function insert(node: Node | undefined, fresh: Node): Node {
  if (!node) return fresh;
  if (fresh.first < node.first) {
    node.left = insert(node.left, fresh);
    if (node.left.priority > node.priority) return rotateRight(node);
  } else {
    node.right = insert(node.right, fresh);
    if (node.right.priority > node.priority) return rotateLeft(node);
  }
  return node;
}

function remove(node: Node | undefined, first: bigint): Node | undefined {
  if (!node) return undefined;
  if (first < node.first) {
    node.left = remove(node.left, first);
    return node;
  }
  if (first > node.first) {
    node.right = remove(node.right, first);
    return node;
  }
  if (!node.left) return node.right;
  if (!node.right) return node.left;
  if (node.left.priority > node.right.priority) {
    const top = rotateRight(node);
    top.right = remove(top.right, first);
    return top;
  }
  const top = rotateLeft(node);
  top.left = remove(top.left, first);
  return top;
}

function rotateRight(node: Node): Node {
  const top = node.left!;
  node.left = top.right;
  top.right = node;
  return top;
}

function rotateLeft(node: Node): Node {
  const top = node.right!;
  node.right = top.left;
  top.left = node;
  return top;
}
