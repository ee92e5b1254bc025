/**
 * Timer expiry for a connection, the timers being deadlines in the control
 * block: retransmission (RFC 6298 §5, with backoff and a give-up bound;
 * SYN retransmission while opening), RACK's reordering timer (RFC 8985
 * §6.3), the tail loss probe (RFC 8985 §7),
 * persist (zero-window probes, RFC 9293 §3.8.6.1), delayed ACK, keepalive
 * (RFC 1122 §4.2.3.6) and TIME-WAIT or the FIN-WAIT-2 timeout of a closed
 * connection.
 */
import type { Connection } from "./connection.ts"
import { detectLoss } from "./lossDetection.ts"
import { armLossProbe, mayProbe, probeStart, retransmitFrom, sendProbe, sendSyn, transmit } from "./output.ts"

/**
 * How late a retransmission or loss probe timer may run before it counts as
 * stalled. Only a stall of our own process makes a timer run late: a long
 * GC pause, a descheduled vCPU, or a blocked event loop. During that stall
 * our segments may not have left, and the ACKs answering them may be waiting
 * unread; Node runs expired timers before it reads the device. So a stalled
 * timer is restarted from now, once, rather than fire a needless
 * retransmission (a retransmission timeout would also collapse the window).
 */
const STALL_MS = 10

/** Whether a timer due at `deadline` stalled (see `STALL_MS`) and was not already restarted to that deadline. */
const stalled = (deadline: number, restartedTo: number | undefined, now: number): boolean =>
  now - deadline > STALL_MS && deadline !== restartedTo

/** What a connection in `state` was doing, for a timeout's report. */
const phase = (c: Connection): string =>
  c.state === "SYN-SENT" ? "connect" : c.state === "SYN-RECEIVED" ? "accept" : c.state === "ESTABLISHED" || c.state === "CLOSE-WAIT" ? "transfer" : "close"

/** Give up on the connection (no RST: the peer is presumed gone), blaming the last soft error if there is one. */
const giveUp = (c: Connection, during: string): void => {
  c.timeoutDuring = during
  if (c.softError === "") {
    c.terminate("timeout")
    return
  }
  c.unreachableBecause = `${c.softError}; ${during} gave up`
  c.terminate("unreachable")
}

/** RFC 6298 (5.4)–(5.6): the retransmission timer expired. */
const retransmitTimeout = (c: Connection, now: number): void => {
  c.rtxAt = undefined
  c.probeAt = undefined
  c.probeEnd = undefined
  c.reorderAt = undefined
  // A peer that keeps answering with a zero window is not lost (as Linux does).
  const zeroWindowPeerAlive = c.synchronized && c.sndWnd === 0 && now - c.lastAckReceivedAt < c.config.rtoMaxMs
  if (!zeroWindowPeerAlive) c.retries++
  const limit = c.synchronized ? c.config.maxRetransmissions : c.config.maxSynRetransmissions
  if (c.retries > limit) {
    giveUp(c, phase(c))
    return
  }
  c.rtt.backoff()
  if (!c.synchronized) {
    sendSyn(c, now)
    return
  }
  if (c.retries >= 2) c.scoreboard.clear() // the receiver may have reneged (RFC 2018 §8)
  c.congestion.timeout(c.flight, c.sndNxt, c.retries > 1)
  if (c.tsOk) c.timeoutTsVal ??= c.tsVal(now)
  retransmitFrom(c, c.sndUna, c.sndNxt)
  c.rttSeq = undefined
  transmit(c, now)
  if (c.rtxAt === undefined && c.flight > 0) c.rtxAt = now + c.rtt.rto
}

/**
 * RFC 8985 §7.3: no ACK for two RTTs with data out. Retransmit the last
 * segment (whatever the congestion window), so that its ACK, with SACK,
 * shows what was lost and fast recovery repairs it, rather than waiting
 * for the RTO; then the RTO is armed anew. (RFC 8985 prefers new data when
 * there is some; the last segment always draws the ACK.)
 */
const lossProbe = (c: Connection, now: number): void => {
  c.probeAt = undefined
  if (!mayProbe(c)) return
  c.probeEnd = c.sndNxt
  c.lossProbes++
  retransmitFrom(c, probeStart(c, c.sndNxt), c.sndNxt)
  transmit(c, now)
  c.rtxAt = now + c.rtt.rto
}

/** The persist timer expired: probe the zero window, backing off. */
const persist = (c: Connection, now: number): void => {
  c.persistAt = undefined
  if (++c.probes > c.config.maxRetransmissions) {
    giveUp(c, "zero-window probing")
    return
  }
  sendProbe(c, now)
  c.persistBackoff++
  c.persistAt = now + Math.min(c.config.rtoMaxMs, c.rtt.rto * 2 ** c.persistBackoff)
}

/** The keepalive timer expired: probe an idle connection, or drop it after enough silence. */
const keepalive = (c: Connection, now: number): void => {
  const config = c.keepalive
  c.keepaliveAt = undefined
  if (config === undefined || !c.synchronized || c.state === "TIME-WAIT") return
  if (c.flight > 0) {
    c.keepaliveAt = now + config.idleMs
    return
  }
  if (c.probes >= config.probes) {
    giveUp(c, "keepalive")
    return
  }
  c.probes++
  sendProbe(c, now)
  c.keepaliveAt = now + config.intervalMs
}

/** Run every timer of `c` due at `now`. */
export const runTimers = (c: Connection, now: number): void => {
  if (c.closeAt !== undefined && c.closeAt <= now) {
    c.terminate("closed")
    return
  }
  if (c.rtxAt !== undefined && stalled(c.rtxAt, c.rtxRestartedTo, now)) c.rtxRestartedTo = c.rtxAt = now + c.rtt.rto
  if (c.probeAt !== undefined && stalled(c.probeAt, c.probeRestartedTo, now)) {
    armLossProbe(c, now)
    c.probeRestartedTo = c.probeAt
  }
  if (c.reorderAt !== undefined && c.reorderAt <= now) {
    detectLoss(c, now)
    transmit(c, now)
  }
  // The probe first: due with the RTO, it stands in for it (and arms it anew).
  if (c.probeAt !== undefined && c.probeAt <= now) lossProbe(c, now)
  if (c.rtxAt !== undefined && c.rtxAt <= now) retransmitTimeout(c, now)
  if (c.persistAt !== undefined && c.persistAt <= now && c.state !== "CLOSED") persist(c, now)
  if (c.delackAt !== undefined && c.delackAt <= now && c.state !== "CLOSED") {
    c.delackAt = undefined
    c.ackNow = true
    transmit(c, now)
  }
  if (c.keepaliveAt !== undefined && c.keepaliveAt <= now && c.state !== "CLOSED") keepalive(c, now)
}
