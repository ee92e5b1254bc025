/**
 * Congestion control: slow start and congestion avoidance (RFC 5681), fast
 * retransmit and NewReno fast recovery (RFC 6582), and, when the peer SACKs,
 * the conservative recovery of RFC 6675 (no window inflation: the scoreboard
 * tells what left the network). The window grows only while it is in use
 * (RFC 7661's concern, kept as Linux does: `tcp_is_cwnd_limited`), so that a
 * sender limited by its buffer or its application does not build up a
 * window it never tested; it restarts after an idle spell (RFC 5681 §4.1)
 * and is halved by an ECN congestion echo (RFC 3168). A cut for a loss
 * that D-SACKs later show was none (every retransmission since reported
 * received twice: RFC 3708; or nothing was retransmitted at all) is undone
 * once its recovery is over, as Linux's
 * `tcp_try_undo_dsack` does (RFC 4015's response: the window and threshold
 * from before the cut); so is a timeout whose first ACK echoes the timestamp
 * of what was sent before it (Eifel, RFC 3522). The window is in bytes.
 */
import { seqGeq, seqGt } from "../wire/seq.ts"
import { SeqRanges } from "./seqRanges.ts"

/** Duplicate ACKs that signal a loss (RFC 5681 §3.2 DupThresh). */
export const DUP_THRESHOLD = 3

/** Ranges tracked for an undo at most; past this the cut stands. */
const UNDO_RANGES = 64

/**
 * What a loss cut the window from, and the evidence for undoing it: the data
 * retransmitted since the cut, and the data D-SACKs reported received twice.
 */
class CutUndo {
  readonly retransmitted = new SeqRanges(UNDO_RANGES)
  readonly duplicated = new SeqRanges(UNDO_RANGES)
  readonly cwnd: number
  readonly ssthresh: number
  /** The cut was a timeout's (not a recovery's): Eifel's test may undo it. */
  readonly byTimeout: boolean

  constructor(cwnd: number, ssthresh: number, byTimeout: boolean) {
    this.cwnd = cwnd
    this.ssthresh = ssthresh
    this.byTimeout = byTimeout
  }

  /**
   * Whether every byte retransmitted since the cut was reported received
   * twice; or nothing was (the missing data arrived before its turn came,
   * as in a batch of ACKs that shows a hole and then its filling).
   */
  get spurious(): boolean {
    if (this.retransmitted.isEmpty) return true
    return this.retransmitted.ranges.every((sent) => {
      const twice = this.duplicated.overlap(sent.left, sent.right)
      return twice !== undefined && twice.left === sent.left && twice.right === sent.right
    })
  }
}

/** The congestion state of one connection. */
export class Congestion {
  /** Congestion window. */
  cwnd: number
  /** Slow-start threshold; arbitrarily high at first (RFC 5681 §3.1). */
  ssthresh = Number.MAX_SAFE_INTEGER
  /** In fast recovery until SND.UNA reaches `recover`. */
  inRecovery = false
  /** SND.MAX when the last recovery or timeout began (RFC 6582 `recover`). */
  recover: number
  /** Duplicate ACKs in a row. */
  dupAcks = 0
  private avoidanceAcked = 0
  private readonly mss: number
  /** The initial window (RFC 5681 §3.1 IW). */
  private readonly initialWindow: number
  /** Whether the window held sending back during the current window of data. */
  private windowLimited = false
  /** The most bytes in flight during the current window of data. */
  private maxFlight = 0
  /** Where the current window of data ends: once SND.UNA reaches it, the record of use starts anew. */
  private usageEnd: number
  /** The last loss cut, while it may still prove needless. */
  private undo: CutUndo | undefined = undefined

  constructor(mss: number, iss: number) {
    this.mss = mss
    this.initialWindow = mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss
    this.cwnd = this.initialWindow
    this.recover = iss
    this.usageEnd = iss
  }

  /**
   * After sending: `flight` bytes are in the network, SND.UNA is `una`,
   * SND.NXT `sndNxt`. Records how fully the window is used in this window
   * of data (as Linux's `tcp_cwnd_validate`).
   */
  recordUse(flight: number, una: number, sndNxt: number): void {
    const limited = flight + this.mss > this.cwnd
    if (seqGeq(una, this.usageEnd) || limited || (!this.windowLimited && flight > this.maxFlight)) {
      this.windowLimited = limited
      this.maxFlight = flight
      this.usageEnd = sndNxt
    }
  }

  /** Whether ACKs may grow the window: it held sending back lately, or, in slow start, it is under twice the most in flight. */
  private get inUse(): boolean {
    return this.windowLimited || (this.cwnd < this.ssthresh && this.cwnd < 2 * this.maxFlight)
  }

  /** New data acknowledged outside recovery: grow the window while it is in use (RFC 5681 §3.1, byte counting). */
  grow(acked: number): void {
    if (!this.inUse) return
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(acked, this.mss)
      return
    }
    this.avoidanceAcked += acked
    if (this.avoidanceAcked >= this.cwnd) {
      this.avoidanceAcked -= this.cwnd
      this.cwnd += this.mss
    }
  }

  /**
   * Sending starts again after more than a retransmission timeout without
   * sending: the path may have changed meanwhile, so the window restarts
   * from the initial one (RFC 5681 §4.1), and slow start climbs back at
   * least to three quarters of what it had grown to (as Linux does).
   */
  restartAfterIdle(): void {
    if (this.cwnd <= this.initialWindow) return
    this.ssthresh = Math.max(this.ssthresh, (3 * this.cwnd) / 4)
    this.cwnd = this.initialWindow
    this.avoidanceAcked = 0
  }

  /** Whether a loss signal at SND.UNA `una` may start a recovery (RFC 6582 §3.2 step 2). */
  mayRecover(una: number): boolean {
    return !this.inRecovery && seqGt(una, this.recover)
  }

  /** Enter fast recovery with `flight` bytes outstanding up to `sndMax` (RFC 5681 §3.2 steps 2–3). */
  enterRecovery(flight: number, sndMax: number, sack: boolean): void {
    this.undo = new CutUndo(this.cwnd, this.ssthresh, false)
    this.ssthresh = this.halved(flight)
    this.cwnd = sack ? this.ssthresh : this.ssthresh + DUP_THRESHOLD * this.mss
    this.inRecovery = true
    this.recover = sndMax
  }

  /** Another duplicate ACK during NewReno recovery: inflate (RFC 5681 §3.2 step 4). */
  inflate(): void {
    this.cwnd += this.mss
  }

  /** A partial ACK of `acked` bytes during NewReno recovery: deflate (RFC 6582 §3.2 step 3). */
  deflate(acked: number): void {
    this.cwnd = Math.max(this.mss, this.cwnd - acked + (acked >= this.mss ? this.mss : 0))
  }

  /** SND.UNA passed `recover`: leave recovery (RFC 6582 §3.2 step 3, full acknowledgment). */
  exitRecovery(flight: number): void {
    this.inRecovery = false
    this.cwnd = Math.min(this.ssthresh, Math.max(flight, this.mss) + this.mss)
    this.avoidanceAcked = 0
  }

  /** A loss probe repaired a loss (RFC 8985 §7.4.2): reduce the window as fast recovery would, with nothing left to retransmit. */
  lossRepaired(): void {
    this.halve()
  }

  /** The peer echoed a congestion mark (RFC 3168 §6.1.2): halve the window, with nothing to retransmit. */
  congestionMarked(): void {
    this.halve()
  }

  /** The slow-start threshold after a congestion signal with `amount` bytes in use (RFC 5681 eq. 4). */
  private halved(amount: number): number {
    return Math.max(amount / 2, 2 * this.mss)
  }

  /** A cut with nothing to retransmit and nothing to undo: threshold and window to half the window. */
  private halve(): void {
    this.undo = undefined
    this.ssthresh = this.halved(this.cwnd)
    this.cwnd = this.ssthresh
    this.avoidanceAcked = 0
  }

  /**
   * The retransmission timer expired (RFC 5681 §3.1 (4), RFC 6582 §3.2 step
   * 4); `repeated`: again, with no ACK of new data since the last time. The
   * window and threshold before the cut are kept for an undo; a repeated
   * timeout, or one during a recovery, belongs to the loss already recorded.
   */
  timeout(flight: number, sndMax: number, repeated: boolean): void {
    if (this.undo === undefined || !(repeated || this.inRecovery)) this.undo = new CutUndo(this.cwnd, this.ssthresh, true)
    this.ssthresh = this.halved(flight)
    this.cwnd = this.mss
    this.inRecovery = false
    this.recover = sndMax
    this.dupAcks = 0
    this.avoidanceAcked = 0
  }

  /** `[start, end)` was retransmitted: a cut is undone only if every such range proves needless. */
  retransmitted(start: number, end: number): void {
    if (this.undo !== undefined && !this.undo.retransmitted.add(start, end)) this.undo = undefined
  }

  /** A D-SACK reported `[left, right)` received twice (RFC 2883). */
  duplicateReported(left: number, right: number): void {
    if (this.undo !== undefined && !this.undo.duplicated.add(left, right)) this.undo = undefined
  }

  /**
   * With SND.UNA at `una`: if the last loss cut's recovery is over and every
   * byte retransmitted since was reported received twice, nothing was lost:
   * restore the window and threshold from before the cut (never lowering
   * them) and return true.
   */
  undoIfSpurious(una: number): boolean {
    const undo = this.undo
    if (undo === undefined || this.inRecovery || !seqGeq(una, this.recover) || !undo.spurious) return false
    this.restore(undo)
    return true
  }

  /**
   * The last timeout was spurious: the ACKs were late, nothing was lost
   * (Eifel, RFC 3522). Restore the window and threshold from before it and
   * return true (false when there is no cut to undo).
   */
  undoTimeout(): boolean {
    const undo = this.undo
    if (undo === undefined || !undo.byTimeout || this.inRecovery) return false
    this.restore(undo)
    return true
  }

  /** Undo a cut: the window and threshold from before it, never lowering them. */
  private restore(undo: CutUndo): void {
    this.undo = undefined
    this.cwnd = Math.max(this.cwnd, undo.cwnd)
    this.ssthresh = Math.max(this.ssthresh, undo.ssthresh)
    this.avoidanceAcked = 0
  }
}
