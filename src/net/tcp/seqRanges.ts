/**
 * A bounded set of byte ranges in sequence space, kept sorted, disjoint and
 * non-adjacent: what a receiver holds beyond RCV.NXT (RFC 9293 §3.10.7.4
 * "segments with higher beginning sequence numbers may be held") and what a
 * sender knows the receiver holds (the SACK scoreboard, RFC 6675 §3). The
 * bound keeps a peer from making us track unbounded fragments. Each range
 * remembers when it last grew, so SACK blocks can be reported most recent
 * first (RFC 2018 §4).
 */
import type { SackBlock } from "../wire/tcp.ts"
import { seqDiff, seqGt, seqLeq, seqLt } from "../wire/seq.ts"

/** One range `[left, right)` and when it last grew. */
export interface SeqRange {
  left: number
  right: number
  stamp: number
}

/** Sorted, disjoint, non-adjacent sequence ranges, at most `maxRanges` of them. */
export class SeqRanges {
  /** The ranges in sequence order. */
  readonly ranges: Array<SeqRange> = []
  private clock = 0
  private readonly maxRanges: number

  constructor(maxRanges: number) {
    this.maxRanges = maxRanges
  }

  /** No range is held. */
  get isEmpty(): boolean {
    return this.ranges.length === 0
  }

  /** The bytes the ranges cover. */
  get bytes(): number {
    let n = 0
    for (const range of this.ranges) n += seqDiff(range.right, range.left)
    return n
  }

  /**
   * Add `[left, right)`, merging with the ranges it touches. Returns false,
   * adding nothing, when that would exceed the bound.
   */
  add(left: number, right: number): boolean {
    let first = 0
    while (first < this.ranges.length && seqLt(this.ranges[first]!.right, left)) first++
    let last = first
    let l = left
    let r = right
    while (last < this.ranges.length && seqLeq(this.ranges[last]!.left, right)) {
      const range = this.ranges[last]!
      if (seqLt(range.left, l)) l = range.left
      if (seqGt(range.right, r)) r = range.right
      last++
    }
    if (this.ranges.length - (last - first) + 1 > this.maxRanges) return false
    this.ranges.splice(first, last - first, { left: l, right: r, stamp: ++this.clock })
    return true
  }

  /**
   * The in-order point moved to `point`: drop the ranges starting at or
   * before it and return the new in-order point (the end of a range that
   * `point` reaches, or `point`).
   */
  advance(point: number): number {
    let next = point
    while (this.ranges.length > 0 && seqLeq(this.ranges[0]!.left, next)) {
      const range = this.ranges.shift()!
      if (seqGt(range.right, next)) next = range.right
    }
    return next
  }

  /** The first part of `[left, right)` that a range already covers, or `undefined`. */
  overlap(left: number, right: number): SackBlock | undefined {
    for (const range of this.ranges) {
      if (seqLeq(range.right, left)) continue
      if (seqLeq(right, range.left)) return undefined
      return { left: seqGt(range.left, left) ? range.left : left, right: seqLt(range.right, right) ? range.right : right }
    }
    return undefined
  }

  /** Forget every range. */
  clear(): void {
    this.ranges.length = 0
  }

  /** Up to `n` ranges as SACK blocks, most recently grown first. */
  blocks(n: number): Array<SackBlock> {
    return [...this.ranges]
      .sort((a, b) => b.stamp - a.stamp)
      .slice(0, n)
      .map(({ left, right }) => ({ left, right }))
  }
}
