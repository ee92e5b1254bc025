/**
 * Segment arrival for a connection (RFC 9293 §3.10.7.3 and §3.10.7.4),
 * hardened per RFC 5961 (RST and SYN answered with challenge ACKs unless
 * exact, ACKs checked against MAX.SND.WND), with PAWS and TS.Recent
 * (RFC 7323 §5, §4.3), SACK scoreboard updates (RFC 2018), RTT samples
 * (RFC 6298 with Karn's rule, or RFC 7323 timestamps), congestion control
 * and loss recovery (RFC 5681, RFC 6582, RFC 6675; loss detection in
 * `lossDetection.ts`), delayed ACKs
 * (RFC 1122 §4.2.3.2) and out-of-order reassembly.
 */
import { Ecn } from "../wire/ipv4.ts"
import type { SackBlock, Segment, Timestamps } from "../wire/tcp.ts"
import { Flags, MAX_HEADER_LENGTH, MAX_WINDOW_SCALE } from "../wire/tcp.ts"
import { seqAdd, seqDiff, seqGeq, seqGt, seqInWindow, seqLeq, seqLt, seqMin } from "../wire/seq.ts"
import type { Connection } from "./connection.ts"
import { Congestion } from "./congestion.ts"
import { detectLoss, highestDelivered, rackUpdate, sackedOutOfOrder } from "./lossDetection.ts"
import { armLossProbe, challengeAck, effectiveMss, retransmitFrom, sendReset, sendSyn, transmit } from "./output.ts"

/** Take the options of the peer's SYN: MSS, window scale, SACK-permitted, timestamps (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
export const negotiate = (c: Connection, syn: Segment): void => {
  const o = syn.options
  c.wsOk = c.wsOk && o.windowScale !== undefined
  c.sndShift = c.wsOk ? Math.min(o.windowScale ?? 0, MAX_WINDOW_SCALE) : 0
  if (!c.wsOk) c.rcvShift = 0
  c.sackOk = c.sackOk && o.sackPermitted
  c.tsOk = c.tsOk && o.timestamps !== undefined
  if (o.timestamps !== undefined) c.tsRecent = o.timestamps.tsVal
  // RFC 3168 §6.1.1: an ECN-setup SYN has ECE and CWR; the SYN-ACK agreeing to it, ECE alone.
  const ecnFlags = syn.flags & (Flags.ECE | Flags.CWR)
  c.ecnOk = c.passive
    ? c.config.ecn !== "off" && ecnFlags === (Flags.ECE | Flags.CWR)
    : c.config.ecn === "on" && (syn.flags & Flags.ACK) !== 0 && ecnFlags === Flags.ECE
  c.peerMss = o.mss ?? 536
  c.sndMss = effectiveMss(c)
  c.burstSegments = c.peerMss >= c.announcedMss && c.pathMss >= c.announcedMss
    ? Math.max(1, Math.floor((c.maxOffloadSegment - MAX_HEADER_LENGTH) / c.sndMss))
    : 1
  c.congestion = new Congestion(c.sndMss, c.iss)
  c.irs = syn.sequenceNumber
  c.rcvNxt = seqAdd(syn.sequenceNumber, 1)
  c.rcvAdvertised = c.rcvNxt
}

/** RTT sample for a SYN answered without retransmission (Karn) or via its echoed timestamp. */
const sampleHandshake = (c: Connection, seg: Segment, now: number, sentAt: number): void => {
  const ts = seg.options.timestamps
  if (c.tsOk && ts !== undefined && ts.tsEcr !== 0) c.rtt.sample(seqDiff(c.tsVal(now), ts.tsEcr), now)
  else if (c.retries === 0) c.rtt.sample(now - sentAt, now)
}

/** The handshake completed: ESTABLISHED (RFC 9293 §3.10.7.3 SYN-SENT, §3.10.7.4 fifth). */
const establish = (c: Connection, seg: Segment, now: number): void => {
  c.state = c.finQueued ? "FIN-WAIT-1" : "ESTABLISHED"
  c.sndUna = seg.acknowledgmentNumber
  c.sndWnd = seg.window << ((seg.flags & Flags.SYN) !== 0 ? 0 : c.sndShift)
  c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd)
  c.sndWl1 = seg.sequenceNumber
  c.sndWl2 = seg.acknowledgmentNumber
  sampleHandshake(c, seg, now, c.rttSentAt)
  c.retries = 0
  c.rtxAt = undefined
  c.lastAckReceivedAt = now
  if (c.keepalive !== undefined) c.keepaliveAt = now + c.keepalive.idleMs
}

/** RFC 9293 §3.10.7.3: a segment in SYN-SENT. */
const synSent = (c: Connection, seg: Segment, now: number): void => {
  const f = seg.flags
  const ack = (f & Flags.ACK) !== 0
  if (ack && (seqLeq(seg.acknowledgmentNumber, c.iss) || seqGt(seg.acknowledgmentNumber, c.sndNxt))) {
    if ((f & Flags.RST) === 0) sendReset(c, seg.acknowledgmentNumber, now)
    return
  }
  if ((f & Flags.RST) !== 0) {
    if (ack) c.terminate("refused")
    return
  }
  if ((f & Flags.SYN) === 0) return
  negotiate(c, seg)
  if (ack) {
    establish(c, seg, now)
    c.ackNow = true
    transmit(c, now)
    c.notify()
    return
  }
  // Simultaneous open: answer with SYN-ACK and wait in SYN-RECEIVED.
  c.state = "SYN-RECEIVED"
  c.sndWnd = seg.window
  c.sndWl1 = seg.sequenceNumber
  sendSyn(c, now)
}

/** RFC 7323 §5.3 PAWS: a segment whose TSval is older than TS.Recent is a stale duplicate. */
const pawsRejects = (c: Connection, seg: Segment): boolean => {
  const ts = seg.options.timestamps
  return c.tsOk && ts !== undefined && (seg.flags & Flags.RST) === 0 && seqLt(ts.tsVal, c.tsRecent)
}

/** RFC 9293 §3.10.7.4 first: whether the segment overlaps the receive window. */
const acceptable = (c: Connection, seq: number, length: number): boolean => {
  const window = c.receiveBuffer.window
  if (length === 0) return window === 0 ? seq === c.rcvNxt : seqInWindow(seq, c.rcvNxt, window)
  if (window === 0) return false
  return seqInWindow(seq, c.rcvNxt, window) || seqInWindow(seqAdd(seq, length - 1), c.rcvNxt, window)
}

/**
 * Data `[left, right)` arrived that we already had: with SACK, the next ACK
 * reports it as its first block (D-SACK, RFC 2883 §4), at once, so that a
 * sender that retransmitted it needlessly can undo its window reduction.
 */
const receivedTwice = (c: Connection, left: number, right: number): void => {
  if (!c.sackOk || !seqLt(left, right)) return
  c.duplicate = { left, right }
  c.ackNow = true
}

/** RFC 5961 §3.2: an RST resets only when its sequence number is exactly RCV.NXT (never in TIME-WAIT, RFC 1337). */
const onReset = (c: Connection, seq: number, now: number): void => {
  if (seq !== c.rcvNxt) {
    challengeAck(c, now)
    return
  }
  switch (c.state) {
    case "SYN-RECEIVED":
      c.terminate(c.passive ? "closed" : "refused")
      return
    case "TIME-WAIT":
      return // RFC 1337: no TIME-WAIT assassination
    case "CLOSING":
    case "LAST-ACK":
      c.terminate("closed")
      return
    default:
      c.terminate("reset")
  }
}

/** The peer's FIN was reached: RFC 9293 §3.10.7.4 eighth. */
const onFin = (c: Connection, now: number): void => {
  c.rcvNxt = seqAdd(c.rcvNxt, 1)
  c.finReceived = true
  c.pendingFin = undefined
  c.ackNow = true
  switch (c.state) {
    case "SYN-RECEIVED":
    case "ESTABLISHED":
      c.state = "CLOSE-WAIT"
      break
    case "FIN-WAIT-1":
      if (c.finSent && seqGt(c.sndUna, c.finSeq)) c.enterTimeWait(now)
      else c.state = "CLOSING"
      break
    case "FIN-WAIT-2":
      c.enterTimeWait(now)
      break
    default:
      break
  }
  c.notify()
}

/**
 * Data at `seq` (already trimmed to the window): store it, advance RCV.NXT,
 * decide when to ACK. False when the data reset the connection instead.
 */
const onData = (c: Connection, seq: number, data: Uint8Array, now: number): boolean => {
  if (c.appClosed) {
    // RFC 1122 §4.2.2.13: data for a closed connection is answered with RST.
    sendReset(c, c.sndNxt, now)
    c.terminate("aborted")
    return false
  }
  if (data.length > c.rcvMss) c.rcvMss = data.length
  const held = c.receiveBuffer.outOfOrder
  const wasInOrder = held.isEmpty
  const twice = wasInOrder ? undefined : held.overlap(seq, seqAdd(seq, data.length))
  if (twice !== undefined) receivedTwice(c, twice.left, twice.right)
  const advanced = c.receiveBuffer.store(c.rcvNxt, seq, data)
  if (advanced === 0) {
    c.ackNow = true // out of order: a duplicate ACK with SACK blocks, at once (RFC 5681 §4.2)
    return true
  }
  c.rcvNxt = seqAdd(c.rcvNxt, advanced)
  c.notify()
  if (!wasInOrder || seqDiff(c.rcvNxt, c.lastAckSent) >= 2 * c.rcvMss) c.ackNow = true
  else if (c.delackAt === undefined) c.delackAt = now + c.config.delayedAckMs
  return true
}

/**
 * An ACK of new data, the first since a timeout if one is recorded: if it
 * echoes a timestamp older than the first retransmission's, it answers what
 * was sent before the timeout, which was only late (Eifel, RFC 3522): the
 * window cut is undone and the retransmissions stop, new data going on from
 * SND.NXT (RFC 4015).
 */
const spuriousTimeout = (c: Connection, ts: Timestamps | undefined): void => {
  const retransmittedAt = c.timeoutTsVal
  if (retransmittedAt === undefined) return
  c.timeoutTsVal = undefined
  if (ts === undefined || ts.tsEcr === 0 || !seqLt(ts.tsEcr, retransmittedAt) || !c.congestion.undoTimeout()) return
  c.cutsUndone++
  c.rtxLimit = undefined
  c.retransmitted.length = 0
  c.lostAgain.length = 0
}

/** New data acknowledged up to `ack`: free it, sample the RTT, grow or leave recovery. */
const onNewAck = (c: Connection, seg: Segment, now: number): void => {
  const ack = seg.acknowledgmentNumber
  const acked = seqDiff(ack, c.sndUna)
  const freed = Math.min(Math.max(0, seqDiff(ack, c.sndBase)), c.sendBuffer.length)
  c.sendBuffer.discard(freed)
  c.sndBase = seqAdd(c.sndBase, freed)
  c.sndUna = ack
  c.scoreboard.advance(ack)
  c.rack.acked(ack)
  c.retries = 0
  c.softError = ""
  const ts = seg.options.timestamps
  spuriousTimeout(c, ts)
  if (c.tsOk && ts !== undefined && ts.tsEcr !== 0) c.rtt.sample(seqDiff(c.tsVal(now), ts.tsEcr), now)
  else if (c.rttSeq !== undefined && seqGeq(ack, c.rttSeq)) {
    c.rtt.sample(now - c.rttSentAt, now)
    c.rttSeq = undefined
  }
  const cc = c.congestion
  if (cc.inRecovery) {
    if (seqGeq(ack, cc.recover)) cc.exitRecovery(c.flight)
    else if (!c.sackOk) {
      // NewReno partial ACK: retransmit the next hole at once (RFC 6582 §3.2 step 3).
      cc.deflate(acked)
      retransmitFrom(c, ack, seqAdd(ack, 1))
    }
  } else cc.grow(acked)
  cc.dupAcks = 0
  if (c.rtxLimit !== undefined && !cc.inRecovery && seqGeq(ack, c.rtxLimit)) c.rtxLimit = undefined
  c.rtxAt = c.flight === 0 ? undefined : now + c.rtt.rto
  armLossProbe(c, now)
  if (freed > 0 && c.refillSendBuffer()) c.notify()
}

/**
 * The peer echoed a congestion mark (ECE, RFC 3168 §6.1.2): cut the window
 * as a loss would, at most once per window of data and not during loss
 * recovery (which has cut it already), and say so with CWR on the next new
 * data.
 */
const echoedCongestion = (c: Connection): void => {
  if (c.congestion.inRecovery || seqLeq(c.sndUna, c.ecnRecover)) return
  c.congestion.congestionMarked()
  c.ecnRecover = c.sndNxt
  c.cwrPending = true
  c.ecnReductions++
}

/** The data SACK blocks report received twice (RFC 2883 §4: a first block below the ACK, or inside the second), if any. */
const duplicateReported = (sack: ReadonlyArray<SackBlock> | undefined, ack: number): SackBlock | undefined => {
  const first = sack?.[0]
  if (first === undefined) return undefined
  if (seqLeq(first.right, ack)) return first
  const second = sack![1]
  return second !== undefined && seqGeq(first.left, second.left) && seqLeq(first.right, second.right) ? first : undefined
}

/**
 * RFC 8985 §7.4: what the ACKs say of the last loss probe. A D-SACK, or a
 * pure duplicate ACK at the probe's end (`news`: the ACK moved SND.UNA,
 * SACKed something new, carried data or moved the window), means that the
 * original arrived too: no loss. An ACK beyond it without either means that
 * the probe repaired a loss, which the congestion window answers as fast
 * recovery would.
 */
const probeEpisode = (c: Connection, ack: number, duplicate: SackBlock | undefined, news: boolean): void => {
  const end = c.probeEnd!
  if (seqLt(ack, end)) return
  if (duplicate !== undefined || (ack === end && !news)) c.probeEnd = undefined
  else if (seqGt(ack, end)) {
    c.probeEnd = undefined
    c.congestion.lossRepaired()
  }
}

/** RFC 9293 §3.10.7.4 fifth (ACK field) for synchronized states; false when the segment is to be dropped. */
const onAck = (c: Connection, seg: Segment, now: number): boolean => {
  const ack = seg.acknowledgmentNumber
  // RFC 5961 §5.2: acceptable only within [SND.UNA − MAX.SND.WND, SND.NXT].
  if (seqGt(ack, c.sndNxt) || seqLt(ack, seqAdd(c.sndUna, -Math.max(c.maxSndWnd, 1)))) {
    challengeAck(c, now)
    return false
  }
  c.lastAckReceivedAt = now
  c.probes = 0
  const window = seg.window << c.sndShift
  const unaBefore = c.sndUna
  const heldBefore = c.sackOk ? highestDelivered(c) : unaBefore
  const outOfOrder = c.sackOk && seg.options.sack !== undefined && sackedOutOfOrder(c, seg.options.sack, heldBefore)
  const sackNews = c.sackOk && seg.options.sack !== undefined && c.scoreboard.update(seg.options.sack, c.sndUna, c.sndNxt)
  const cc = c.congestion
  const advanced = seqGt(ack, c.sndUna)
  const duplicate = duplicateReported(seg.options.sack, ack)
  if (duplicate !== undefined && c.sackOk) {
    cc.duplicateReported(duplicate.left, duplicate.right)
    c.rack.dsack(c.sndUna, c.sndNxt)
  }
  const recovering = cc.inRecovery
  if (c.probeEnd !== undefined) probeEpisode(c, ack, duplicate, advanced || sackNews || seg.payload.length > 0 || window !== c.sndWnd)
  if (advanced) onNewAck(c, seg, now)
  else if (
    ack === c.sndUna && c.flight > 0 && seg.payload.length === 0 &&
    (seg.flags & (Flags.SYN | Flags.FIN)) === 0 && (window === c.sndWnd || sackNews)
  ) {
    cc.dupAcks++
    if (cc.inRecovery && !c.sackOk) cc.inflate()
  }
  if (c.ecnOk && (seg.flags & Flags.ECE) !== 0) echoedCongestion(c)
  if (c.sackOk) rackUpdate(c, unaBefore, heldBefore, outOfOrder, duplicate !== undefined, seg.options.timestamps, now)
  detectLoss(c, now)
  // A cut proves needless once its recovery is over and D-SACKs covered every retransmission (RFC 3708).
  if ((duplicate !== undefined || (recovering && !cc.inRecovery)) && cc.undoIfSpurious(c.sndUna)) c.cutsUndone++
  if (recovering && !cc.inRecovery) c.rack.recoveryEnded()
  // Window update (RFC 9293 §3.10.7.4, SND.WL1/SND.WL2).
  if (seqLt(c.sndWl1, seg.sequenceNumber) || (c.sndWl1 === seg.sequenceNumber && seqLeq(c.sndWl2, ack))) {
    c.sndWnd = window
    c.sndWl1 = seg.sequenceNumber
    c.sndWl2 = ack
    if (window > c.maxSndWnd) c.maxSndWnd = window
    if (window > 0) c.persistBackoff = 0
  }
  const finAcked = c.finSent && seqGt(c.sndUna, c.finSeq)
  switch (c.state) {
    case "FIN-WAIT-1":
      if (finAcked) {
        c.state = "FIN-WAIT-2"
        if (c.appClosed) c.closeAt = now + 2 * c.config.mslMs
      }
      break
    case "CLOSING":
      if (finAcked) c.enterTimeWait(now)
      break
    case "LAST-ACK":
      if (finAcked) {
        c.terminate("closed")
        return false
      }
      break
    default:
      break
  }
  return true
}

/**
 * With ECN, what the peer's segment says of congestion: its CWR ends our
 * echo, and a Congestion Experienced mark on its packet (IPv4 ECN field
 * `ecn`) starts it, with an ACK at once (RFC 3168 §6.1.3).
 */
const congestionMarks = (c: Connection, flags: number, ecn: number): void => {
  if ((flags & Flags.CWR) !== 0) c.ecnEcho = false
  if (ecn === Ecn.Ce) {
    c.ecnEcho = true
    c.ackNow = true
  }
}

/** Process one segment (from a packet whose ECN field was `ecn`) for a connection not in LISTEN (the engine handles that). */
export const segmentArrives = (c: Connection, seg: Segment, now: number, ecn = 0): void => {
  if (c.state === "CLOSED") return
  if (c.state === "SYN-SENT") {
    synSent(c, seg, now)
    return
  }
  const flags = seg.flags
  let seq = seg.sequenceNumber
  let syn = (flags & Flags.SYN) !== 0
  let fin = (flags & Flags.FIN) !== 0
  let data = seg.payload
  if (syn && seq === c.irs && c.state === "SYN-RECEIVED" && (flags & Flags.RST) === 0) {
    if ((flags & Flags.ACK) === 0) {
      sendSyn(c, now) // the peer's SYN again: our SYN-ACK was lost
      return
    }
    syn = false // simultaneous open: the peer's SYN-ACK; its SYN is old news
    seq = seqAdd(seq, 1)
  }
  const length = data.length + (syn ? 1 : 0) + (fin ? 1 : 0)
  if (pawsRejects(c, seg) || !acceptable(c, seq, length)) {
    if ((flags & Flags.RST) === 0) {
      const start = syn ? seqAdd(seq, 1) : seq
      const end = seqAdd(start, data.length)
      if (seqLeq(end, c.rcvNxt)) receivedTwice(c, start, end)
      c.ackNow = true
      transmit(c, now)
    }
    return
  }
  c.lastReceivedAt = now
  if (c.keepalive !== undefined && c.keepaliveAt !== undefined) {
    c.keepaliveAt = now + c.keepalive.idleMs
    c.probes = 0
  }
  const ts = seg.options.timestamps
  if (c.tsOk && ts !== undefined && seqLeq(seq, c.lastAckSent) && seqGeq(ts.tsVal, c.tsRecent)) c.tsRecent = ts.tsVal
  // Trim to the window: the part before RCV.NXT is old (received twice), the part beyond the window is dropped.
  let old: SackBlock | undefined
  if (seqLt(seq, c.rcvNxt)) {
    const start = syn ? seqAdd(seq, 1) : seq
    old = { left: start, right: seqMin(seqAdd(start, data.length), c.rcvNxt) }
    let cut = seqDiff(c.rcvNxt, seq)
    if (syn) {
      syn = false
      cut--
    }
    data = data.subarray(Math.min(cut, data.length))
    seq = c.rcvNxt
  }
  const room = c.receiveBuffer.window - seqDiff(seq, c.rcvNxt)
  if (data.length > room) {
    data = data.subarray(0, Math.max(0, room))
    fin = false
  }
  if ((flags & Flags.RST) !== 0) {
    onReset(c, seg.sequenceNumber, now)
    return
  }
  if (syn) {
    challengeAck(c, now) // RFC 5961 §4.2: a SYN in a synchronized state
    return
  }
  if ((flags & Flags.ACK) === 0) return
  if (c.state === "SYN-RECEIVED") {
    const ack = seg.acknowledgmentNumber
    if (!seqLt(c.sndUna, ack) || !seqLeq(ack, c.sndNxt)) {
      sendReset(c, ack, now)
      return
    }
    if (c.passive && !c.host.established(c)) return // backlog full: let the peer retransmit
    establish(c, seg, now)
    c.notify()
  }
  if (!onAck(c, seg, now)) return
  if (c.ecnOk) congestionMarks(c, flags, ecn)
  if (old !== undefined) receivedTwice(c, old.left, old.right)
  if (data.length > 0 && (c.state === "ESTABLISHED" || c.state === "FIN-WAIT-1" || c.state === "FIN-WAIT-2")) {
    if (!onData(c, seq, data, now)) return
  }
  if (fin) {
    const at = seqAdd(seq, data.length)
    if (at === c.rcvNxt) onFin(c, now)
    else c.pendingFin = at
  }
  if (c.pendingFin === c.rcvNxt && !c.finReceived) onFin(c, now)
  c.host.output(c, now)
}
