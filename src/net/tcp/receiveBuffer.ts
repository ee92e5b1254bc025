/**
 * A connection's receive buffer: in-order bytes waiting for the application,
 * followed (in the same ring, at their place) by out-of-order bytes waiting
 * for the hole before them to fill. Its free room is the receive window.
 *
 * A reader waiting on an empty buffer may lend its own buffer, or have one
 * made for it when bytes come: in-order bytes then go straight into it, not
 * into the ring, so the window stays open while the reader has room (the
 * sender need not wait for the reader to run before it may send again) and
 * the bytes are copied once, not twice.
 */
import { ByteRing } from "./ring.ts"
import { SeqRanges } from "./seqRanges.ts"
import { seqAdd, seqDiff } from "../wire/seq.ts"

/** In-order data for the application plus bounded out-of-order reassembly. */
export class ReceiveBuffer {
  private readonly ring: ByteRing
  /** The out-of-order ranges held beyond the in-order data. */
  readonly outOfOrder: SeqRanges
  /** A waiting reader's buffer that in-order bytes go into, and how many it holds. */
  private lent: Uint8Array | undefined = undefined
  private lentFilled = 0
  /** The waiting reader lent no buffer (`lendNew`): `lent` is made here, of up to `lendSize` bytes, when bytes first come. */
  private lentNew = false
  private lendSize = 0
  /** How many bytes the last `takeNew` handed over. */
  private lastTaken = 0
  /** Bytes a lent buffer held when its reader withdrew it (interrupted): read before the ring's. */
  private withdrawn: Uint8Array | undefined = undefined

  constructor(capacity: number, maxRanges: number) {
    this.ring = new ByteRing(capacity)
    this.outOfOrder = new SeqRanges(maxRanges)
  }

  /** The buffer's size: the largest window. */
  get capacity(): number {
    return this.ring.capacity
  }

  /** In-order bytes the application has not read (a lent buffer's included). */
  get readable(): number {
    return this.lentFilled + (this.withdrawn?.length ?? 0) + this.ring.length
  }

  /** Room after the in-order bytes: the receive window. */
  get window(): number {
    return this.ring.free
  }

  /**
   * Store `data` (already trimmed to `[rcvNxt, rcvNxt + window)`) received
   * at `seq`; returns how far RCV.NXT advances (0 for out-of-order data, or
   * when the out-of-order bound drops it).
   */
  store(rcvNxt: number, seq: number, data: Uint8Array): number {
    const offset = seqDiff(seq, rcvNxt)
    let lent = 0
    if (offset === 0 && (this.lent !== undefined || this.lentNew) && this.ring.length === 0 && this.outOfOrder.isEmpty) {
      // A buffer made for a `lendNew` reader is sized by the reads before: twice the last (so bulk reads grow to `lendSize`, small messages stay small), at least this segment.
      this.lent ??= new Uint8Array(Math.max(data.length, Math.min(this.lendSize, 2 * this.lastTaken)))
      lent = Math.min(data.length, this.lent.length - this.lentFilled)
      this.lent.set(lent === data.length ? data : data.subarray(0, lent), this.lentFilled)
      this.lentFilled += lent
      if (lent === data.length) return lent
      rcvNxt = seqAdd(rcvNxt, lent)
      seq = rcvNxt
      data = data.subarray(lent)
    }
    if (offset > 0 && !this.outOfOrder.add(seq, seqAdd(seq, data.length))) return 0
    this.ring.writeAt(this.ring.length + offset, data)
    if (offset > 0) return 0
    const advanced = seqDiff(this.outOfOrder.advance(seqAdd(rcvNxt, data.length)), rcvNxt)
    this.ring.commit(advanced)
    return lent + advanced
  }

  /**
   * A reader about to wait for bytes lends `buffer`: until it reads (with
   * `readInto(buffer)`) or `withdraw`s it, in-order bytes arriving on an
   * empty ring go to its start. Refused (false) while bytes wait or another
   * reader's buffer is lent.
   */
  lend(buffer: Uint8Array): boolean {
    if (this.lent !== undefined || this.lentNew || this.readable > 0) return false
    this.lent = buffer
    return true
  }

  /**
   * As `lend`, for a reader without a buffer of its own: one is made when
   * bytes first come (a waiting reader ties up no memory), as big as the
   * segment or twice the last such read, up to `size` bytes; `takeNew`
   * hands its bytes over.
   */
  lendNew(size: number): boolean {
    if (this.lent !== undefined || this.lentNew || this.readable > 0) return false
    this.lentNew = true
    this.lendSize = size
    return true
  }

  /**
   * For a `lendNew` reader: the bytes its buffer took, ending the loan, or
   * `undefined` while none came. A short read is copied out rather than
   * keeping the whole buffer alive.
   */
  takeNew(): Uint8Array | undefined {
    if (!this.lentNew || this.lentFilled === 0) return undefined
    const buffer = this.lent!
    const n = this.lentFilled
    this.endLoan()
    this.lastTaken = n
    return 4 * n < buffer.length ? buffer.slice(0, n) : buffer.subarray(0, n)
  }

  /**
   * The reader that lent `buffer` (without one: the `lendNew` reader)
   * stopped waiting without reading: the bytes it was given stay readable.
   */
  withdraw(buffer?: Uint8Array): void {
    if (buffer === undefined ? !this.lentNew : this.lent !== buffer) return
    if (this.lentFilled > 0) this.withdrawn = buffer === undefined ? this.lent!.subarray(0, this.lentFilled) : this.lent!.slice(0, this.lentFilled)
    this.endLoan()
  }

  private endLoan(): void {
    this.lent = undefined
    this.lentFilled = 0
    this.lentNew = false
  }

  /** Give the storage back for other buffers if no in-order bytes wait (the connection ended: out-of-order bytes are moot). */
  recycle(): void {
    this.ring.recycle()
  }

  /**
   * Move up to `buffer.length` in-order bytes to the start of `buffer`; how
   * many (a lent `buffer` already holds its bytes there). While another
   * reader's lent buffer holds bytes, none: they come first.
   */
  readInto(buffer: Uint8Array): number {
    let n = 0
    if (this.lent === buffer) {
      n = this.lentFilled
      if (n === 0 && this.ring.length === 0) return 0 // still waiting: stays lent
      this.endLoan()
    } else if (this.lentFilled > 0) {
      return 0
    } else if (this.withdrawn !== undefined) {
      n = Math.min(buffer.length, this.withdrawn.length)
      buffer.set(n === this.withdrawn.length ? this.withdrawn : this.withdrawn.subarray(0, n))
      this.withdrawn = n === this.withdrawn.length ? undefined : this.withdrawn.subarray(n)
      if (this.withdrawn !== undefined) return n
    }
    const m = Math.min(buffer.length - n, this.ring.length)
    this.ring.copyOut(0, m, buffer, n)
    this.ring.discard(m)
    return n + m
  }
}
