/**
 * A connection's receive buffer: in-order bytes waiting for the application,
 * followed (in the same ring, at their place) by out-of-order bytes waiting
 * for the hole before them to fill. Its free room is the receive window.
 */
import { ByteRing } from "./ring.ts"
import { SeqRanges } from "./seqRanges.ts"
import { seqAdd, seqDiff } from "../wire/seq.ts"

/** In-order data for the application plus bounded out-of-order reassembly. */
export class ReceiveBuffer {
  private readonly ring: ByteRing
  /** The out-of-order ranges held beyond the in-order data. */
  readonly outOfOrder: SeqRanges

  constructor(capacity: number, maxRanges: number) {
    this.ring = new ByteRing(capacity)
    this.outOfOrder = new SeqRanges(maxRanges)
  }

  /** The buffer's size: the largest window. */
  get capacity(): number {
    return this.ring.capacity
  }

  /** In-order bytes the application has not read. */
  get readable(): number {
    return this.ring.length
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
    if (offset > 0 && !this.outOfOrder.add(seq, seqAdd(seq, data.length))) return 0
    this.ring.writeAt(this.ring.length + offset, data)
    if (offset > 0) return 0
    const advanced = seqDiff(this.outOfOrder.advance(seqAdd(rcvNxt, data.length)), rcvNxt)
    this.ring.commit(advanced)
    return advanced
  }

  /** Give the storage back for other buffers if no in-order bytes wait (the connection ended: out-of-order bytes are moot). */
  recycle(): void {
    this.ring.recycle()
  }

  /** Move up to `buffer.length` in-order bytes to the start of `buffer`; how many. */
  readInto(buffer: Uint8Array): number {
    const n = Math.min(buffer.length, this.ring.length)
    this.ring.copyOut(0, n, buffer, 0)
    this.ring.discard(n)
    return n
  }
}
