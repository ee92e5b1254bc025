/**
 * A fixed-capacity circular byte buffer: the storage of a connection's send
 * and receive buffers. Bytes are addressed by their logical offset from the
 * oldest stored byte; `writeAt` may place bytes beyond the stored length (out
 * of order, for reassembly) and `commit` makes them part of it. The storage
 * is allocated at the first write, so half-open connections cost little.
 */
export class ByteRing {
  private storage: Uint8Array | undefined = undefined
  private head = 0
  /** The most bytes the ring holds. */
  readonly capacity: number
  /** Bytes stored, from logical offset 0. */
  length = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  private get bytes(): Uint8Array {
    return (this.storage ??= new Uint8Array(this.capacity))
  }

  /** Room left after the stored bytes. */
  get free(): number {
    return this.capacity - this.length
  }

  /** Copy `src` to logical offset `offset`; the caller keeps `offset + src.length ≤ capacity`. */
  writeAt(offset: number, src: Uint8Array): void {
    const cap = this.capacity
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
    const cap = this.capacity
    const at = (this.head + offset) % cap
    const first = Math.min(n, cap - at)
    dst.set(this.bytes.subarray(at, at + first), dstOffset)
    if (first < n) dst.set(this.bytes.subarray(0, n - first), dstOffset + first)
  }

  /** Drop the `n` oldest bytes. */
  discard(n: number): void {
    this.head = (this.head + n) % this.capacity
    this.length -= n
  }

  /** Remove and return (a copy of) the `n` oldest bytes. */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    this.copyOut(0, n, out, 0)
    this.discard(n)
    return out
  }
}
