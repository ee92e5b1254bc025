/**
 * Segment sending for a connection: what to send next (retransmissions of
 * lost data first, RFC 6675 NextSeg, and of retransmissions lost again; then
 * new data within the peer's window and the congestion window, restarted
 * after an idle spell, RFC 5681 §4.1, held back by Nagle's algorithm,
 * RFC 896, and sender silly-window avoidance, RFC 9293 §3.8.6.2.1, and let
 * out early by limited transmit, RFC 3042), the flags and options each
 * segment carries (RFC 3168 ECN, RFC 7323 timestamps, RFC 2018 SACK blocks),
 * the receive window it advertises (never shrinking its right edge, with
 * receiver silly-window avoidance), and the RTO, persist and Karn timing it
 * starts.
 */
import type { OptionsInit, SackBlock } from "../wire/tcp.ts"
import { Flags, MIN_HEADER_LENGTH } from "../wire/tcp.ts"
import { seqAdd, seqDiff, seqGt, seqLt, seqMax, seqMin } from "../wire/seq.ts"
import type { Connection, SendRange, SentAgain } from "./connection.ts"

/** Bytes the timestamps option takes (NOP, NOP, TS). */
const TIMESTAMPS_LENGTH = 12

/** How long a peer may delay the ACK of a lone segment, at worst (RFC 8985 §7.2 WCDelAckT). */
const PEER_DELAYED_ACK_MS = 200
/** The shortest probe timeout, as Linux's: on a sub-millisecond path, a pause of our own (GC) must not look like a lost tail. */
const MIN_PROBE_TIMEOUT_MS = 10

/** The window to advertise, in bytes, before scaling. */
const receiveWindow = (c: Connection): number => {
  const free = c.receiveBuffer.window
  const announced = Math.max(0, seqDiff(c.rcvAdvertised, c.rcvNxt))
  const limit = c.wsOk ? 0xffff << c.rcvShift : 0xffff
  // Receiver SWS avoidance: a small opening is not worth announcing.
  const threshold = Math.min(c.receiveBuffer.capacity / 2, c.announcedMss)
  const window = free > announced && free - announced < threshold ? announced : free
  return Math.min(window, limit)
}

/**
 * The SACK blocks to report now, or `undefined`: data received twice first
 * (D-SACK, RFC 2883 §4), then the out-of-order ranges held, as many as fit
 * beside the timestamps.
 */
const sackBlocks = (c: Connection): ReadonlyArray<SackBlock> | undefined => {
  if (!c.sackOk) return undefined
  const held = c.receiveBuffer.outOfOrder
  const room = c.tsOk ? 3 : 4
  if (c.duplicate !== undefined) return [c.duplicate, ...held.blocks(room - 1)]
  return held.isEmpty ? undefined : held.blocks(room)
}

/**
 * Send one segment; with ACK, it acknowledges everything received so far,
 * and echoes a congestion mark (ECE) while one is owed. `ect`: in an
 * ECN-capable packet.
 */
const sendSegment = (
  c: Connection,
  seq: number,
  payloadLength: number,
  segmentFlags: number,
  now: number,
  sack: ReadonlyArray<SackBlock> | undefined,
  ect = false,
): void => {
  const syn = (segmentFlags & Flags.SYN) !== 0
  const ack = (segmentFlags & Flags.ACK) !== 0
  const flags = c.ecnEcho && ack && !syn ? segmentFlags | Flags.ECE : segmentFlags
  const window = receiveWindow(c)
  const field = syn ? Math.min(window, 0xffff) : window >>> c.rcvShift
  const options: OptionsInit = {
    mss: syn ? c.announcedMss : undefined,
    windowScale: syn && c.wsOk ? c.rcvShift : undefined,
    sackPermitted: syn && c.sackOk,
    timestamps: c.tsOk ? { tsVal: c.tsVal(now), tsEcr: ack ? c.tsRecent : 0 } : undefined,
    sack,
  }
  if (ack) {
    c.lastAckSent = c.rcvNxt
    c.ackNow = false
    c.delackAt = undefined
    if (sack !== undefined && sack[0] === c.duplicate) c.duplicate = undefined // reported once (RFC 2883 §4)
    const edge = seqAdd(c.rcvNxt, syn ? field : field << c.rcvShift)
    if (seqGt(edge, c.rcvAdvertised)) c.rcvAdvertised = edge
  }
  c.segmentsSent++
  c.host.transmit(c, {
    sourcePort: c.localPort,
    destinationPort: c.remotePort,
    sequenceNumber: seq,
    acknowledgmentNumber: ack ? c.rcvNxt : 0,
    flags,
    window: field,
    options,
    payloadLength,
  }, seqDiff(seq, c.sndBase), ect)
}

/**
 * Send the SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED) and start the
 * retransmission timer. An ECN-setup SYN carries ECE and CWR, and the
 * SYN-ACK agreeing to it ECE alone (RFC 3168 §6.1.1).
 */
export const sendSyn = (c: Connection, now: number): void => {
  c.sndNxt = seqAdd(c.iss, 1)
  if (c.retries === 0) c.rttSentAt = now
  const flags = c.state === "SYN-SENT"
    ? Flags.SYN | (c.config.ecn === "on" ? Flags.ECE | Flags.CWR : 0)
    : Flags.SYN | Flags.ACK | (c.ecnOk ? Flags.ECE : 0)
  sendSegment(c, c.iss, 0, flags, now, undefined)
  if (c.rtxAt === undefined) c.rtxAt = now + c.rtt.rto
}

/** Send a bare ACK now. */
export const sendAck = (c: Connection, now: number): void => sendSegment(c, c.sndNxt, 0, Flags.ACK, now, sackBlocks(c))

/** Send an RST with sequence number `seq` (RFC 9293 ABORT and error replies). */
export const sendReset = (c: Connection, seq: number, now: number): void =>
  sendSegment(c, seq, 0, Flags.RST, now, undefined)

/**
 * Send an ACK with sequence number SND.UNA − 1, which the peer cannot accept
 * and so answers with an ACK carrying its window: a zero-window probe or a
 * keepalive (RFC 1122 §4.2.3.6).
 */
export const sendProbe = (c: Connection, now: number): void =>
  sendSegment(c, seqAdd(c.sndUna, -1), 0, Flags.ACK, now, undefined)

/**
 * A challenge ACK (RFC 5961 §3.2, §4.2, §5.2), at most
 * `challengeAckLimit` per second on this connection (RFC 5961 §7).
 */
export const challengeAck = (c: Connection, now: number): void => {
  if (now - c.challengeSince >= 1000) {
    c.challengeSince = now
    c.challengeAcks = 0
  }
  if (c.challengeAcks >= c.config.challengeAckLimit) return
  c.challengeAcks++
  sendAck(c, now)
}

/**
 * Bytes in the network (RFC 6675 pipe): outstanding, less what the peer
 * SACKed, less the holes deemed lost and not yet retransmitted.
 */
export const pipe = (c: Connection): number => {
  let bytes = c.flight - c.scoreboard.bytes
  if (c.rtxLimit !== undefined) {
    const from = seqMax(c.rtxNext, c.sndUna)
    const to = seqMin(c.rtxLimit, c.sndNxt)
    if (seqLt(from, to)) bytes -= seqDiff(to, from) - c.scoreboard.bytesIn(from, to)
  }
  return Math.max(0, bytes)
}

/** Send a segment of data and/or FIN at `seq` and start the timers it needs. */
const sendData = (
  c: Connection,
  seq: number,
  length: number,
  fin: boolean,
  now: number,
  sack: ReadonlyArray<SackBlock> | undefined,
  retransmission: boolean,
): void => {
  const end = seqAdd(seq, length)
  const push = length > 0 && end === c.queuedEnd ? Flags.PSH : 0
  // ECN (RFC 3168 §6.1): new data goes out ECN-capable, never a retransmission; the first after a cut says CWR.
  const ect = c.ecnOk && length > 0 && !retransmission
  const cwr = ect && c.cwrPending ? Flags.CWR : 0
  if (cwr !== 0) c.cwrPending = false
  c.lastDataSentAt = now
  sendSegment(c, seq, length, Flags.ACK | push | cwr | (fin ? Flags.FIN : 0), now, sack, ect)
  if (c.rtxAt === undefined) c.rtxAt = now + c.rtt.rto
  if (retransmission) {
    c.rttSeq = undefined
    c.retransmissions++
  }
  else if (!c.tsOk && c.rttSeq === undefined && length > 0) {
    c.rttSeq = end
    c.rttSentAt = now
  }
}

/**
 * Begin a pass of retransmissions over `[from, limit)` (a recovery, a
 * timeout, a loss probe, a smaller path MTU), the first one whatever the
 * congestion window; what an earlier pass tracked is forgotten.
 */
export const retransmitFrom = (c: Connection, from: number, limit: number): void => {
  c.rtxNext = from
  c.rtxLimit = limit
  c.rtxForce = true
  c.retransmitted.length = 0
  c.lostAgain.length = 0
}

/** The retransmission still tracked (in flight, not known lost or delivered) that carries byte `seq`, if any. */
export const retransmissionOf = (c: Connection, seq: number): SentAgain | undefined =>
  c.retransmitted.find((range) => !seqLt(seq, range.start) && seqLt(seq, range.end))

/**
 * The first byte at or after `from` that the receiver is missing and that
 * no retransmission still in flight carries (RFC 6675 NextSeg sends a
 * segment again only once, until it is deemed lost again).
 */
export const nextHole = (c: Connection, from: number): number => {
  let hole = c.scoreboard.holeStart(seqMax(from, c.sndUna))
  for (let carried = retransmissionOf(c, hole); carried !== undefined; carried = retransmissionOf(c, hole)) {
    hole = c.scoreboard.holeStart(carried.end)
  }
  return hole
}

/** The next part of a range whose retransmission was lost that is still missing, dropping ranges delivered since. */
const nextLostAgain = (c: Connection): SendRange | undefined => {
  for (let range = c.lostAgain[0]; range !== undefined; range = c.lostAgain[0]) {
    const start = c.scoreboard.holeStart(seqMax(range.start, c.sndUna))
    if (seqLt(start, range.end)) return { start, end: c.scoreboard.holeEnd(start, range.end) }
    c.lostAgain.shift()
  }
  return undefined
}

/**
 * Retransmit what was lost, if the congestion window allows: first a range
 * whose retransmission was lost too, then the next lost hole; whether a
 * segment went out.
 */
const sendRetransmission = (c: Connection, now: number, room: number, sack: ReadonlyArray<SackBlock> | undefined): boolean | undefined => {
  const limit = c.rtxLimit
  if (limit === undefined) return undefined
  const again = nextLostAgain(c)
  const start = again?.start ?? nextHole(c, c.rtxNext)
  if (again === undefined && (!seqLt(start, limit) || !seqLt(start, c.sndNxt))) return undefined
  const holeEnd = again?.end ?? c.scoreboard.holeEnd(start, c.sndNxt)
  const dataEnd = seqMin(seqMin(holeEnd, c.queuedEnd), seqAdd(start, room))
  const length = Math.max(0, seqDiff(dataEnd, start))
  const fin = c.finSent && dataEnd === c.finSeq && seqGt(holeEnd, c.finSeq)
  if (!c.rtxForce && pipe(c) + length + (fin ? 1 : 0) > c.congestion.cwnd) return false
  c.rtxForce = false
  sendData(c, start, length, fin, now, sack, true)
  const end = seqAdd(start, length + (fin ? 1 : 0))
  if (again !== undefined) {
    if (end === again.end) c.lostAgain.shift()
    else c.lostAgain[0] = { start: end, end: again.end }
  } else c.rtxNext = end
  if (c.sackOk) c.retransmitted.push({ start, end, at: now, order: c.segmentsSent })
  c.congestion.retransmitted(start, end)
  return true
}

/**
 * Send new data (and the FIN after it) if the windows, Nagle and SWS
 * avoidance allow, in one segment of up to `burst` bytes (several wire
 * segments of `room` when the link segments TCP itself, cut to whole ones
 * unless it ends the data); whether a segment went out.
 */
const sendNewData = (c: Connection, now: number, room: number, burst: number, sack: ReadonlyArray<SackBlock> | undefined): boolean => {
  if (c.finSent) return false
  const unsent = seqDiff(c.queuedEnd, c.sndNxt)
  const windowRoom = seqDiff(seqAdd(c.sndUna, c.sndWnd), c.sndNxt)
  const cc = c.congestion
  if (c.flight === 0 && c.lastDataSentAt !== undefined && now - c.lastDataSentAt > c.rtt.rto) cc.restartAfterIdle()
  // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets a
  // new segment out; with SACK, pipe already discounts what they reported.
  const limited = !c.sackOk && !cc.inRecovery ? Math.min(cc.dupAcks, 2) * c.sndMss : 0
  const congestionRoom = cc.cwnd + limited - pipe(c)
  let length = Math.max(0, Math.min(unsent, windowRoom, congestionRoom, burst))
  if (length > room && length < unsent) length -= length % room
  const fin = c.finQueued && length === unsent && congestionRoom > length
  if (length === 0 && !fin) return false
  if (length < room && !fin && c.flight > 0) {
    // Nagle: a small segment waits while data is unacknowledged; SWS: so does a window-limited one.
    if (length === unsent ? !c.noDelay : length < c.maxSndWnd / 2) return false
  }
  const seq = c.sndNxt
  sendData(c, seq, length, fin, now, sack, false)
  c.sndNxt = seqAdd(seq, length + (fin ? 1 : 0))
  if (c.sackOk) c.rack.sentNew(c.sndNxt, now, c.segmentsSent)
  if (fin) {
    c.finSent = true
    c.finSeq = seqAdd(seq, length)
  }
  return true
}

/**
 * Send whatever the connection may send now: retransmissions, new data, a
 * FIN, and an ACK if one is owed and nothing else carried it; then start or
 * stop the persist timer (RFC 9293 §3.8.6.1).
 */
export const transmit = (c: Connection, now: number): void => {
  if (c.state === "SYN-SENT" || c.state === "SYN-RECEIVED" || c.state === "CLOSED") return
  if (c.state !== "TIME-WAIT") {
    let sentNew = false
    for (;;) {
      const sack = sackBlocks(c)
      const room = c.sndMss - (sack === undefined ? 0 : 4 + 8 * sack.length)
      const retransmitted = sendRetransmission(c, now, room, sack)
      if (retransmitted === false) break
      if (retransmitted === undefined) {
        if (!sendNewData(c, now, room, room * c.burstSegments, sack)) break
        sentNew = true
      }
    }
    if (sentNew) armLossProbe(c, now)
    c.congestion.recordUse(pipe(c), c.sndUna, c.sndNxt)
  }
  if (c.ackNow) sendAck(c, now)
  const waiting = seqDiff(c.queuedEnd, c.sndNxt) > 0 || (c.finQueued && !c.finSent)
  if (c.sndWnd === 0 && waiting && c.rtxAt === undefined) {
    if (c.persistAt === undefined) c.persistAt = now + c.rtt.rto
  } else c.persistAt = undefined
}

/**
 * (Re)arm the tail loss probe (RFC 8985 §7.2) once new data went out or an
 * ACK advanced: two smoothed RTTs on (at least 10 ms; plus the peer's worst
 * delayed ACK when one segment is out), or at the RTO if that is sooner (the probe then
 * stands in for the timeout, without its collapse of the window), when
 * `mayProbe`.
 */
export const armLossProbe = (c: Connection, now: number): void => {
  c.probeAt = undefined
  const srtt = c.rtt.srtt
  if (!mayProbe(c) || srtt === undefined || c.rtxAt === undefined) return
  const timeout = Math.max(2 * srtt, MIN_PROBE_TIMEOUT_MS) + (c.flight <= c.sndMss ? PEER_DELAYED_ACK_MS : 0)
  c.probeAt = Math.min(now + timeout, c.rtxAt)
}

/**
 * Whether a loss probe may go out: SACK on (the probe's ACK must show what
 * is missing), synchronized with data out, outside loss recovery and
 * retransmission timeouts, and no earlier probe's episode still open.
 */
export const mayProbe = (c: Connection): boolean =>
  c.sackOk && c.synchronized && c.flight > 0 && !c.congestion.inRecovery && c.rtxLimit === undefined &&
  c.retries === 0 && c.probeEnd === undefined

/** Where a loss probe ending at `end` starts: one segment before it (or at SND.UNA). */
export const probeStart = (c: Connection, end: number): number => seqMax(c.sndUna, seqAdd(end, -c.sndMss))

/** The largest payload for segments with the negotiated options (RFC 6691) that fit the path (RFC 1191). */
export const effectiveMss = (c: Connection): number =>
  Math.max(1, Math.min(c.peerMss, c.announcedMss, c.pathMss) - (c.tsOk ? TIMESTAMPS_LENGTH : 0))

/**
 * The path toward the peer takes segments (TCP header included) of at most
 * `segment` bytes now: an ICMP "fragmentation needed" quoted a segment in
 * flight (RFC 1191 §6.1). Later segments are
 * cut to fit, one wire segment each (the link's segmentation cuts to its own
 * MTU), and what is in flight, dropped for its size, goes out again at
 * once, cut anew. The congestion window stays: this was no congestion (as
 * Linux's `tcp_simple_retransmit`).
 */
export const pathMtuReduced = (c: Connection, segment: number, now: number): void => {
  const pathMss = segment - MIN_HEADER_LENGTH
  if (pathMss >= c.pathMss) return
  c.pathMss = Math.max(1, pathMss)
  const mss = effectiveMss(c)
  if (mss >= c.sndMss) return
  c.sndMss = mss
  c.burstSegments = 1
  retransmitFrom(c, c.sndUna, c.sndNxt)
  c.rttSeq = undefined // Karn: what is timed goes out again
  transmit(c, now)
}
