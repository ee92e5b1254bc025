const EMPTY = new Uint8Array(0)
/** The first storage size. */
const MIN_STORAGE = 4096
/** First storages kept for reuse at most (1 MiB). */
const SPARE_LIMIT = 256

/**
 * First storages given back by rings that outgrew them or were recycled,
 * for new rings: a short connection then allocates no memory of its own
 * (allocating and collecting two 4 KiB buffers per connection took about a
 * tenth of the CPU of short request/response connections). A ring reads
 * only bytes it wrote, so reused storage is not cleared.
 */
const spare: Array<Uint8Array<ArrayBuffer>> = []

const giveBack = (bytes: Uint8Array<ArrayBuffer>): void => {
  if (bytes.length === MIN_STORAGE && spare.length < SPARE_LIMIT) spare.push(bytes)
}

/**
 * A fixed-capacity circular byte buffer: the storage of a connection's send
 * and receive buffers. Bytes are addressed by their logical offset from the
 * oldest stored byte; `writeAt` may place bytes beyond the stored length (out
 * of order, for reassembly) and `commit` makes them part of it. The storage
 * starts small at the first write and doubles as bytes reach further, up to
 * the capacity, so half-open and short-lived connections cost little.
 */
export class ByteRing {
  private bytes = EMPTY
  private head = 0
  /** The most bytes the ring holds. */
  readonly capacity: number
  /** Bytes stored, from logical offset 0. */
  length = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  /** Make the storage reach logical offset `end` (at most the capacity), keeping what it holds. */
  private reach(end: number): void {
    const old = this.bytes
    if (end <= old.length) return
    let size = Math.max(old.length * 2, MIN_STORAGE)
    while (size < end) size *= 2
    size = Math.min(size, this.capacity)
    const bytes = size === MIN_STORAGE ? spare.pop() ?? new Uint8Array(size) : new Uint8Array(size)
    // Every byte held lies at a logical offset below the old size: copy them in logical order.
    if (old.length > 0) {
      bytes.set(old.subarray(this.head), 0)
      bytes.set(old.subarray(0, this.head), old.length - this.head)
      giveBack(old)
    }
    this.bytes = bytes
    this.head = 0
  }

  /** Give the storage of an empty ring back for other rings; it takes storage again when written. */
  recycle(): void {
    if (this.length !== 0) return
    giveBack(this.bytes)
    this.bytes = EMPTY
    this.head = 0
  }

  /** Room left after the stored bytes. */
  get free(): number {
    return this.capacity - this.length
  }

  /** Copy `src` to logical offset `offset`; the caller keeps `offset + src.length ≤ capacity`. */
  writeAt(offset: number, src: Uint8Array): void {
    this.reach(offset + src.length)
    const cap = this.bytes.length
    let at = (this.head + offset) % cap
    const first = Math.min(src.length, cap - at)
    this.bytes.set(first === src.length ? src : src.subarray(0, first), at)
    if (first < src.length) {
      at = 0
      this.bytes.set(src.subarray(first), at)
    }
  }

  /** Append as much of `src` as fits; returns the bytes taken. */
  append(src: Uint8Array): number {
    const n = Math.min(src.length, this.free)
    this.writeAt(this.length, n === src.length ? src : src.subarray(0, n))
    this.length += n
    return n
  }

  /** Extend the stored bytes by `n` already written with `writeAt`. */
  commit(n: number): void {
    this.length += n
  }

  /** Copy `n` bytes from logical offset `offset` into `dst` at `dstOffset`. */
  copyOut(offset: number, n: number, dst: Uint8Array, dstOffset: number): void {
    if (n === 0) return
    const cap = this.bytes.length
    const at = (this.head + offset) % cap
    const first = Math.min(n, cap - at)
    dst.set(this.bytes.subarray(at, at + first), dstOffset)
    if (first < n) dst.set(this.bytes.subarray(0, n - first), dstOffset + first)
  }

  /** Drop the `n` oldest bytes. */
  discard(n: number): void {
    if (n === 0) return
    this.length -= n
    this.head = (this.head + n) % this.bytes.length
  }
}
