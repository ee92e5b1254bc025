/**
 * The sender's SACK scoreboard (RFC 6675 §3): which bytes beyond SND.UNA the
 * receiver reported holding, so loss recovery retransmits only the holes and
 * counts what is really in flight.
 */
import type { SackBlock } from "../wire/tcp.ts"
import { seqDiff, seqGt, seqLeq, seqLt, seqMax, seqMin } from "../wire/seq.ts"
import { SeqRanges } from "./seqRanges.ts"

/** SACKed ranges above SND.UNA. */
export class Scoreboard {
  private readonly sacked: SeqRanges

  constructor(maxRanges: number) {
    this.sacked = new SeqRanges(maxRanges)
  }

  /** Bytes reported held beyond SND.UNA. */
  get bytes(): number {
    return this.sacked.bytes
  }

  /** Nothing is SACKed. */
  get isEmpty(): boolean {
    return this.sacked.isEmpty
  }

  /**
   * Record the blocks of an ACK, keeping only those within
   * `(una, sndMax]` (a D-SACK or a bogus block is ignored). Returns whether
   * new bytes were SACKed.
   */
  update(blocks: ReadonlyArray<SackBlock>, una: number, sndMax: number): boolean {
    const before = this.sacked.bytes
    for (const { left, right } of blocks) {
      if (seqGt(left, una) && seqLt(left, right) && seqLeq(right, sndMax)) this.sacked.add(left, right)
    }
    return this.sacked.bytes > before
  }

  /** SND.UNA moved to `una`: forget what it covers. */
  advance(una: number): void {
    this.sacked.advance(una)
  }

  /** Forget everything (the receiver may have reneged, RFC 2018 §8). */
  clear(): void {
    this.sacked.clear()
  }

  /** The first byte at or after `from` that is not SACKed. */
  holeStart(from: number): number {
    let at = from
    for (const range of this.sacked.ranges) {
      if (seqLeq(range.left, at) && seqLt(at, range.right)) at = range.right
    }
    return at
  }

  /** Where the hole starting at `start` ends: the next SACKed byte, or `limit`. */
  holeEnd(start: number, limit: number): number {
    for (const range of this.sacked.ranges) if (seqGt(range.left, start)) return seqMin(range.left, limit)
    return limit
  }

  /** SACKed bytes within `[from, to)`. */
  bytesIn(from: number, to: number): number {
    let n = 0
    for (const range of this.sacked.ranges) {
      const l = seqMax(range.left, from)
      const r = seqMin(range.right, to)
      if (seqLt(l, r)) n += seqDiff(r, l)
    }
    return n
  }

  /** The end of the highest SACKed range, or `undefined` when nothing is SACKed. */
  get highest(): number | undefined {
    return this.sacked.ranges.at(-1)?.right
  }
}
