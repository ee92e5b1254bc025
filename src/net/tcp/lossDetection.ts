/**
 * Loss detection for a connection, after each ACK and when RACK's
 * reordering timer expires. With SACK: RACK (RFC 8985 §6, `rack.ts`), for
 * first transmissions and for retransmissions lost again, and a loss probe
 * the receiver SACKed (§7.4: what was sent before it and is missing is
 * lost). Without SACK: three duplicate ACKs (RFC 5681 §3.2). A first loss
 * starts fast recovery (RFC 6582, RFC 6675); during one, more lost data
 * joins the retransmissions.
 */
import type { SackBlock, Timestamps } from "../wire/tcp.ts"
import { seqAdd, seqDiff, seqGt, seqLt, seqMax, seqMin } from "../wire/seq.ts"
import type { Connection, SendRange } from "./connection.ts"
import { DUP_THRESHOLD } from "./congestion.ts"
import { nextHole, probeStart, retransmissionOf, retransmitFrom } from "./output.ts"

/** The end of what the receiver reported holding: SND.UNA, or the end of the highest SACKed range above it. */
export const highestDelivered = (c: Connection): number => {
  const highest = c.scoreboard.highest
  return highest === undefined ? c.sndUna : seqMax(c.sndUna, highest)
}

/** Whether every byte of `range` was acknowledged or SACKed. */
const delivered = (c: Connection, range: SendRange): boolean =>
  !seqLt(c.scoreboard.holeStart(seqMax(range.start, c.sndUna)), range.end)

/**
 * Whether the SACK `blocks` of an ACK (before the scoreboard takes them)
 * report new data below `heldBefore`, the end of what the receiver held,
 * whose first byte was never sent again: data that arrived after data sent
 * later (RACK.reordering_seen, RFC 8985 §6.2 step 3).
 */
export const sackedOutOfOrder = (c: Connection, blocks: ReadonlyArray<SackBlock>, heldBefore: number): boolean =>
  blocks.some(({ left, right }) => {
    const start = seqMax(left, c.sndUna)
    const end = seqMin(right, heldBefore)
    if (!seqLt(start, end) || c.scoreboard.bytesIn(start, end) === seqDiff(end, start)) return false
    return retransmissionOf(c, c.scoreboard.holeStart(start)) === undefined
  })

/**
 * RACK_update (RFC 8985 §6.2 steps 2–3) after an ACK that found SND.UNA at
 * `unaBefore` and the receiver holding up to `heldBefore`. The newest data it
 * reports becomes RACK's reference: new data above what the receiver held,
 * or a retransmission now whole, unless the ACK may answer its original
 * (it came sooner than the minimum RTT, or echoes an older timestamp).
 * Reordering shows when data below what the receiver held arrives without
 * having been sent again (`sackedOutOfOrder`, or a hole at SND.UNA filled
 * so), and when a D-SACK reports a retransmission needless (`duplicate`).
 */
export const rackUpdate = (
  c: Connection,
  unaBefore: number,
  heldBefore: number,
  outOfOrder: boolean,
  duplicate: boolean,
  ts: Timestamps | undefined,
  now: number,
): void => {
  const rack = c.rack
  const held = highestDelivered(c)
  if (seqGt(held, heldBefore)) rack.deliveredNew(seqAdd(held, -1), now)
  for (const range of c.retransmitted) {
    if (!delivered(c, range)) continue
    const ambiguous = now - range.at < c.rtt.min || (c.tsOk && ts !== undefined && seqLt(ts.tsEcr, c.tsVal(range.at)))
    if (!ambiguous) rack.delivered(range.at, range.order, range.end, now)
  }
  if (outOfOrder || duplicate || (seqGt(heldBefore, unaBefore) && seqGt(c.sndUna, unaBefore) && retransmissionOf(c, unaBefore) === undefined)) {
    rack.reorderingSeen = true
  }
}

/**
 * RFC 8985 §6.2 for retransmissions: one sent before data since reported
 * delivered, and out for RACK.rtt plus the reordering window, was lost too:
 * what of it is still missing is sent again at once, not at the
 * retransmission timeout. Forgets the retransmissions now delivered; returns
 * when the next one not yet that old will be.
 */
const findLostRetransmissions = (c: Connection, now: number, reorderWindow: number): number | undefined => {
  let kept = 0
  let next: number | undefined
  for (const range of c.retransmitted) {
    const start = c.scoreboard.holeStart(seqMax(range.start, c.sndUna))
    if (!seqLt(start, range.end)) continue // delivered
    const deadline = c.rack.deadline(range.at, range.order, reorderWindow)
    if (deadline !== undefined && deadline <= now) {
      c.lostAgain.push({ start, end: range.end })
      c.lostRetransmissions++
      continue
    }
    if (deadline !== undefined && (next === undefined || deadline < next)) next = deadline
    c.retransmitted[kept++] = range
  }
  c.retransmitted.length = kept
  return next
}

/** Where the data deemed lost ends: RACK's `edge`, or, once a loss probe is SACKed, the probe's start if that is further. */
const lostBefore = (c: Connection, edge: number | undefined): number | undefined => {
  if (c.probeEnd === undefined) return edge
  const start = probeStart(c, c.probeEnd)
  if (c.scoreboard.holeStart(start) === start) return edge
  return edge === undefined ? start : seqMax(edge, start)
}

/**
 * Enter fast recovery for data lost below `lostEdge` (at least the segment
 * at SND.UNA), retransmitting it first. What an earlier pass sent again
 * and is not yet known lost or delivered stays in flight, not sent again
 * (`nextHole`).
 */
const startRecovery = (c: Connection, lostEdge: number | undefined): void => {
  c.probeAt = undefined
  c.probeEnd = undefined // recovery answers the loss a probe showed
  c.congestion.enterRecovery(c.flight, c.sndNxt, c.sackOk)
  const inFlight = c.retransmitted.filter((range) => !delivered(c, range))
  retransmitFrom(c, c.sndUna, seqMax(seqAdd(c.sndUna, 1), lostEdge ?? c.sndUna))
  c.retransmitted.push(...inFlight)
  c.rttSeq = undefined
}

/**
 * Find what was lost now: start fast recovery on a first loss, or add to
 * the one under way; arm the reordering timer (`reorderAt`) for missing
 * data sent before delivered data but not yet old enough to count as lost.
 */
export const detectLoss = (c: Connection, now: number): void => {
  const cc = c.congestion
  c.reorderAt = undefined
  if (!c.sackOk) {
    if (cc.dupAcks >= DUP_THRESHOLD && cc.mayRecover(c.sndUna) && c.flight > 0) startRecovery(c, undefined)
    return
  }
  if (c.scoreboard.isEmpty && c.retransmitted.length === 0) return
  // A plain loss (a recovery under way, or DupThresh segments SACKed) needs no reordering window, unless reordering was seen.
  const plainLoss = cc.inRecovery || c.rtxLimit !== undefined || c.scoreboard.bytes >= DUP_THRESHOLD * c.sndMss
  const reorderWindow = c.rack.window(plainLoss, c.rtt.min, c.rtt.srtt)
  const found = c.rack.detect(c.scoreboard, c.sndUna, now, reorderWindow)
  // Missing data below RACK's edge that a retransmission still in flight carries is that retransmission's to lose.
  const lostEdge = lostBefore(c, found.edge !== undefined && seqLt(nextHole(c, c.sndUna), found.edge) ? found.edge : undefined)
  let next = found.next
  if (lostEdge !== undefined && seqGt(lostEdge, c.sndUna) && cc.mayRecover(c.sndUna) && c.flight > 0) {
    startRecovery(c, lostEdge)
  } else if (cc.inRecovery && c.rtxLimit !== undefined) {
    if (lostEdge !== undefined) c.rtxLimit = seqMax(c.rtxLimit, lostEdge)
    const again = findLostRetransmissions(c, now, reorderWindow)
    if (again !== undefined && (next === undefined || again < next)) next = again
  }
  c.reorderAt = next
}
