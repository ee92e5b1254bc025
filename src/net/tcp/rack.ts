/**
 * RACK (RFC 8985 §6): loss detection by time, for connections with SACK.
 * The sender remembers when each burst of new data went out (and, in
 * `Connection.retransmitted`, each retransmission). RACK.xmit_ts is the send
 * time of the most recently sent data the receiver reported (cumulatively
 * or by SACK); data sent before it and still missing is lost once it has
 * been out for RACK.rtt plus a reordering window, and a reordering timer
 * waits for data that is not yet that old. "Sent before" follows the order
 * of transmission (a counter), not the clock, whose milliseconds are
 * coarser than a LAN's round trip.
 *
 * The reordering window (RACK.reo_wnd, §6.2 step 4) is zero while the
 * receiver has never been seen to deliver out of order and the loss is
 * plain (a recovery is under way, or DupThresh segments are SACKed): RFC
 * 6675's rule then. Otherwise it is a quarter of the minimum RTT, times a
 * multiplier that each round with D-SACKs raises (a needless
 * retransmission: the window was too short) and 16 recoveries without
 * reset; never under two ticks of the 1 ms clock, nor over SRTT (unless
 * SRTT is shorter than that).
 */
import type { Scoreboard } from "./scoreboard.ts"
import { seqGt, seqGeq, seqLt, seqMax, seqMin } from "../wire/seq.ts"

/**
 * The shortest reordering window, in ms: two ticks of the 1 ms clock, as
 * two readings 1 ms apart may be only a moment apart in fact.
 */
const MIN_WINDOW_MS = 2
/** Recoveries without a D-SACK before the reordering window's multiplier goes back to 1 (RFC 8985 §6.2 step 4). */
const REORDER_PERSIST = 16

/** What `detect` found: the end of the data deemed lost (every byte below it not SACKed), and when to look again. */
export interface Detection {
  readonly edge: number | undefined
  readonly next: number | undefined
}

const NOTHING: Detection = { edge: undefined, next: undefined }

/** The RACK state of one connection. */
export class Rack {
  /**
   * The bursts of new data still unacknowledged, from `head` on, in the order
   * sent (so in sequence order, each starting where the one before ended):
   * where each ended, when it went, and its place in the order of transmission.
   */
  private ends: Array<number> = []
  private times: Array<number> = []
  private orders: Array<number> = []
  private head = 0
  /** RACK.xmit_ts and its place in the order of transmission, undefined until data is reported delivered. */
  xmitAt: number | undefined = undefined
  xmitOrder = 0
  /** RACK.end_seq: where that data ended. */
  endSeq = 0
  /** RACK.rtt: that data's round trip. */
  rtt = 0
  /** RACK.reordering_seen: data sent before data already reported arrived later, never retransmitted. */
  reorderingSeen = false
  private multiplier = 1
  private persist = 0
  /** RACK.dsack_round: SND.NXT when the last D-SACK widened the window; none again until SND.UNA passes it. */
  private dsackRound: number | undefined = undefined

  /** New data up to `end` (a FIN counting one) went out at `now`, as transmission number `order`. */
  sentNew(end: number, now: number, order: number): void {
    this.ends.push(end)
    this.times.push(now)
    this.orders.push(order)
  }

  /** SND.UNA reached `una`: forget the bursts wholly below it. */
  acked(una: number): void {
    while (this.head < this.ends.length && seqGeq(una, this.ends[this.head]!)) this.head++
    if (this.head > 64 && 2 * this.head > this.ends.length) {
      this.ends = this.ends.slice(this.head)
      this.times = this.times.slice(this.head)
      this.orders = this.orders.slice(this.head)
      this.head = 0
    }
  }

  /** Data sent at `at` as transmission `order`, ending at `end`, was reported delivered at `now` (RACK_update, §6.2 step 2). */
  delivered(at: number, order: number, end: number, now: number): void {
    if (this.xmitAt !== undefined && (order < this.xmitOrder || (order === this.xmitOrder && !seqGt(end, this.endSeq)))) return
    this.xmitAt = at
    this.xmitOrder = order
    this.endSeq = end
    this.rtt = now - at
  }

  /** The first transmission of byte `seq` was reported delivered at `now` (bytes below it too: they went out earlier). */
  deliveredNew(seq: number, now: number): void {
    const i = this.burstOf(seq)
    if (i !== undefined) this.delivered(this.times[i]!, this.orders[i]!, seqMin((seq + 1) >>> 0, this.ends[i]!), now)
  }

  /** An ACK with SND.UNA `una` carried a D-SACK while SND.NXT was `sndNxt`: widen the window, once per round. */
  dsack(una: number, sndNxt: number): void {
    if (this.dsackRound !== undefined && seqGeq(una, this.dsackRound)) this.dsackRound = undefined
    if (this.dsackRound !== undefined) return
    this.dsackRound = sndNxt
    this.multiplier++
    this.persist = REORDER_PERSIST
  }

  /** A recovery ended: after enough of them without a D-SACK, the window narrows back. */
  recoveryEnded(): void {
    if (--this.persist <= 0) this.multiplier = 1
  }

  /** The reordering window: `plainLoss` when a recovery is under way or DupThresh segments are SACKed. */
  window(plainLoss: boolean, minRtt: number, srtt: number | undefined): number {
    if (!this.reorderingSeen && plainLoss) return 0
    const wanted = Number.isFinite(minRtt) ? (minRtt / 4) * this.multiplier : MIN_WINDOW_MS
    return Math.min(Math.max(wanted, MIN_WINDOW_MS), Math.max(srtt ?? MIN_WINDOW_MS, MIN_WINDOW_MS))
  }

  /** Whether data sent as transmission `order` at `at` went out before the delivered data, and if so when it counts as lost. */
  deadline(at: number, order: number, reorderWindow: number): number | undefined {
    return this.xmitAt !== undefined && order < this.xmitOrder ? this.lostAt(at, reorderWindow) : undefined
  }

  /** When data sent at `at` counts as lost, once data sent after it was delivered. */
  private lostAt(at: number, reorderWindow: number): number {
    return at + this.rtt + reorderWindow
  }

  /**
   * RACK_detect_loss (§6.2 step 5) for first transmissions, with SND.UNA at
   * `una` and what `scoreboard` holds: the data sent before RACK.xmit_ts and
   * out for RACK.rtt + `reorderWindow` by `now` is lost (the edge ends it),
   * and the oldest missing data sent before but not yet that old gives the
   * time to look again.
   */
  detect(scoreboard: Scoreboard, una: number, now: number, reorderWindow: number): Detection {
    if (this.xmitAt === undefined || this.head === this.ends.length) return NOTHING
    // The last burst sent no later than the delivered data, and where what was sent before that data ends.
    const last = this.lastBurst((i) => this.orders[i]! <= this.xmitOrder)
    if (last === undefined) return NOTHING
    const limit = this.orders[last] === this.xmitOrder ? seqMin(this.ends[last]!, this.endSeq) : this.ends[last]!
    const due = this.lastBurst((i) => i <= last && this.lostAt(this.times[i]!, reorderWindow) <= now)
    const dueEnd = due === undefined ? una : due === last ? limit : this.ends[due]!
    const edge = seqGt(dueEnd, una) && seqLt(scoreboard.holeStart(una), dueEnd) ? dueEnd : undefined
    const waiting = scoreboard.holeStart(seqMax(dueEnd, una))
    const burst = seqLt(waiting, limit) ? this.burstOf(waiting) : undefined
    return { edge, next: burst === undefined ? undefined : this.lostAt(this.times[burst]!, reorderWindow) }
  }

  /** The burst holding byte `seq` (at or above SND.UNA), if it is unacknowledged new data: the first to end after it. */
  private burstOf(seq: number): number | undefined {
    const i = (this.lastBurst((j) => !seqLt(seq, this.ends[j]!)) ?? this.head - 1) + 1
    return i < this.ends.length ? i : undefined
  }

  /** The last burst for which `holds` is true, when it holds for a prefix of the bursts (a binary search). */
  private lastBurst(holds: (i: number) => boolean): number | undefined {
    let low = this.head
    let high = this.ends.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (holds(middle)) low = middle + 1
      else high = middle
    }
    return low === this.head ? undefined : low - 1
  }
}
