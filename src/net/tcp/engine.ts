/**
 * The TCP engine of one stack: a `TransportProtocol` for IPv4 protocol 6.
 * It parses segments (checksum verified), demultiplexes them by 4-tuple to
 * connections or to listeners, answers segments to nowhere with RST
 * (RFC 9293 §3.10.7.1), reopens TIME-WAIT tuples for a new SYN
 * (RFC 6191 / RFC 1122 §4.2.2.13), opens connections with RFC 6528 ISNs and
 * ephemeral ports, answers SYNs with SYN cookies while a listener's SYN queue
 * is full (RFC 4987 §3.6), writes segments through the `IpSender`, and keeps the
 * earliest timer deadline of all connections for the shell's single timer.
 * Everything is synchronous; time is passed in by the caller.
 */
import type { IpSender, TransportProtocol } from "../direct/Transport.ts"
import { formatIpv4 } from "../wire/addr.ts"
import { u16, u32 } from "../wire/bytes.ts"
import { describeUnreachable, UnreachableCode } from "../wire/icmpv4.ts"
import { Ecn, MIN_HEADER_LENGTH as IPV4_HEADER_LENGTH } from "../wire/ipv4.ts"
import type { Header, Segment } from "../wire/tcp.ts"
import { emit, Flags, headerLength, parse, PROTOCOL } from "../wire/tcp.ts"
import { seqAdd, seqDiff, seqGeq, seqGt, seqLeq, seqLt } from "../wire/seq.ts"
import type { TcpConfig } from "./config.ts"
import { makeConfig } from "./config.ts"
import type { ConnectionHost } from "./connection.ts"
import { Connection } from "./connection.ts"
import { segmentArrives, negotiate } from "./input.ts"
import type { IsnGenerator } from "./isn.ts"
import { makeIsnGenerator } from "./isn.ts"
import { Listener } from "./listener.ts"
import { pathMtuReduced, sendSyn, transmit } from "./output.ts"
import { COOKIE_LIFETIME_MS, cookieOptions, decodeOptions, encodeTsVal, SynCookies } from "./synCookies.ts"
import { runTimers } from "./timers.ts"

/** The first ephemeral port (RFC 6335 §6). */
const EPHEMERAL_FIRST = 49152
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST

/** Why `connect` could not open a connection. */
export type ConnectFailure = "no-route" | "address-in-use" | "no-ephemeral-port"

/** Why `listen` could not listen. */
export type ListenFailure = "port-in-use" | "invalid-port"

/** Counters of the engine, for tests and diagnostics. */
export interface EngineStats {
  segmentsReceived: number
  /** Segments dropped at parsing (bad checksum, malformed). */
  segmentsRejected: number
  resetsSent: number
  /** SYN-ACKs sent with a SYN cookie, and connections opened from a returned one. */
  synCookiesSent: number
  synCookiesAccepted: number
}

/** How to build an engine. */
export interface EngineOptions {
  readonly config?: Partial<TcpConfig>
  /** A source of 32-bit random numbers: the ISN and timestamp keys, ephemeral ports. */
  readonly random: () => number
}

/** A connection request: SYN without ACK, RST or FIN (ECN bits allowed). */
const isBareSyn = (seg: Segment): boolean => (seg.flags & (Flags.SYN | Flags.ACK | Flags.RST | Flags.FIN)) === Flags.SYN

const tupleKey = (address: number, port: number): number => address * 65536 + port

/** Destination unreachable codes that say the peer will never answer (Linux's fatal ones, RFC 1122 §4.2.3.9's hard errors and the prohibitions). */
const HARD_UNREACHABLE: ReadonlySet<number> = new Set([
  UnreachableCode.Protocol,
  UnreachableCode.Port,
  UnreachableCode.NetUnknown,
  UnreachableCode.HostUnknown,
  UnreachableCode.SourceHostIsolated,
  UnreachableCode.NetProhibited,
  UnreachableCode.HostProhibited,
  UnreachableCode.AdministrativelyProhibited,
])

/** A TCP engine bound to one IPv4 layer. */
export class TcpEngine implements TransportProtocol {
  readonly protocol = PROTOCOL
  readonly config: TcpConfig
  readonly stats: EngineStats = { segmentsReceived: 0, segmentsRejected: 0, resetsSent: 0, synCookiesSent: 0, synCookiesAccepted: 0 }
  /** Called when the earliest deadline moved earlier (the shell's timer must wake). */
  onWake: () => void = () => {}
  private readonly ip: IpSender
  private readonly random: () => number
  private readonly isn: IsnGenerator
  private readonly cookies: SynCookies
  /** remote (address, port) → local (address, port) → connection. */
  private readonly connections = new Map<number, Map<number, Connection>>()
  private readonly listeners = new Map<number, Listener>()
  private readonly owners = new Map<Connection, Listener>()
  private earliest: number | undefined = undefined
  private readonly host: ConnectionHost
  /** The connection `find` found last, while registered: a batch's segments mostly belong to one connection (no lookup of its 4-tuple each). */
  private lastFound: Connection | undefined = undefined
  /** Inside a received batch: connections whose output waits for its end. */
  private inBatch = false
  private readonly held = new Set<Connection>()

  constructor(ip: IpSender, options: EngineOptions) {
    this.ip = ip
    this.config = makeConfig(options.config)
    this.random = options.random
    this.isn = makeIsnGenerator(options.random)
    this.cookies = new SynCookies(options.random)
    this.host = {
      config: this.config,
      transmit: (c, header, payloadOffset, ect) => this.transmit(c, header, payloadOffset, ect),
      established: (c) => this.owners.get(c)?.promote(c) ?? true,
      closed: (c) => this.remove(c),
      reschedule: (c) => this.reschedule(c),
      output: (c, now) => {
        if (!this.inBatch) transmit(c, now)
        else if (this.mayHold(c)) this.held.add(c)
        else {
          transmit(c, now)
          // An ACK the sender's window waits on goes out at once; duplicate ACKs, each with its SACK blocks, go together at the batch's end.
          if (c.receiveBuffer.outOfOrder.isEmpty) this.ip.push?.()
        }
      },
    }
  }

  /** The number of connections in any state but CLOSED (TIME-WAIT included). */
  get connectionCount(): number {
    let n = 0
    for (const inner of this.connections.values()) n += inner.size
    return n
  }

  /** The connection for a 4-tuple, if any. */
  find(localAddress: number, localPort: number, remoteAddress: number, remotePort: number): Connection | undefined {
    const last = this.lastFound
    if (last !== undefined && last.remotePort === remotePort && last.localPort === localPort &&
      last.remoteAddress === remoteAddress && last.localAddress === localAddress) return last
    const c = this.connections.get(tupleKey(remoteAddress, remotePort))?.get(tupleKey(localAddress, localPort))
    if (c !== undefined) this.lastFound = c
    return c
  }

  /** `TransportProtocol.input`: one segment, `packet[start, end)`, from `source` to `destination`. */
  readonly input = (
    source: number,
    destination: number,
    packet: Uint8Array,
    start: number,
    end: number,
    now: number,
    checksumVerified: boolean,
    ecn: number,
  ): void => {
    const seg = parse(packet, source, destination, !checksumVerified, start, end)
    if (seg._tag === "Rejected") {
      this.stats.segmentsRejected++
      return
    }
    this.stats.segmentsReceived++
    let c = this.find(destination, seg.destinationPort, source, seg.sourcePort)
    if (c !== undefined && c.state === "TIME-WAIT" && this.reopens(c, seg)) {
      c.terminate("closed")
      c = undefined
    }
    if (c !== undefined) {
      segmentArrives(c, seg, now, ecn)
      this.reschedule(c)
      return
    }
    const listener = this.listeners.get(seg.destinationPort)
    if (listener === undefined) this.resetFor(source, destination, seg)
    else if (isBareSyn(seg)) this.passiveOpen(listener, source, destination, seg, now)
    else if ((seg.flags & (Flags.ACK | Flags.RST)) === Flags.ACK && !this.openFromCookie(listener, source, destination, seg, now)) {
      this.resetFor(source, destination, seg)
    }
    // RFC 9293 §3.10.7.2, LISTEN: an RST is ignored, and so is anything else with neither ACK nor a bare SYN (FIN, NULL or Xmas probes, SYN+FIN).
  }

  /**
   * `TransportProtocol.icmpUnreachable`, as Linux does: a connection still
   * opening (SYN-SENT) gives up at once, refused for a port or protocol
   * unreachable and unreachable for the rest; a half-open one (SYN-RECEIVED)
   * is dropped on a hard error, freeing its place in the SYN queue; a
   * synchronized one carries on (soft errors, RFC 5461) but keeps the error,
   * which its timeout reports if no new data is acknowledged before.
   * "Fragmentation needed" about a synchronized connection lowers the path
   * MTU to that host (RFC 1191), which later connections start with, and
   * this connection's segments (others learn from their own errors). Only
   * an error quoting a sequence number in flight counts (RFC 5927 §4.1): a
   * blind attacker would have to guess it.
   */
  readonly icmpUnreachable = (
    source: number,
    destination: number,
    quoted: Uint8Array,
    code: number,
    reporter: number,
    now: number,
    mtu: number,
  ): void => {
    if (quoted.length < 8) return
    const c = this.find(source, u16(quoted, 0), destination, u16(quoted, 2))
    if (c === undefined || c.state === "CLOSED") return
    const seq = u32(quoted, 4)
    if (code === UnreachableCode.FragmentationNeeded) {
      if (c.synchronized && seqGeq(seq, c.sndUna) && seqLt(seq, c.sndNxt) && mtu > 0) {
        pathMtuReduced(c, this.ip.reducePathMtu(destination, mtu) - IPV4_HEADER_LENGTH, now)
        this.reschedule(c)
      }
      return
    }
    const because = `${describeUnreachable(code)} (ICMP from ${formatIpv4(reporter)})`
    if (c.state === "SYN-RECEIVED") {
      if (seq === c.iss && HARD_UNREACHABLE.has(code)) c.terminate("closed")
      return
    }
    if (c.state !== "SYN-SENT") {
      if (seqGeq(seq, c.sndUna) && seqLeq(seq, c.sndNxt)) c.softError = because
      return
    }
    if (seq !== c.iss) return
    if (code === UnreachableCode.Port || code === UnreachableCode.Protocol) {
      c.terminate("refused")
      return
    }
    c.unreachableBecause = because
    c.terminate("unreachable")
  }

  /** `TransportProtocol.beginBatch`: hold output back until `endBatch`. */
  readonly beginBatch = (): void => {
    this.inBatch = true
  }

  /** `TransportProtocol.endBatch`: send what the held connections may send, one ACK each for the batch. */
  readonly endBatch = (now: number): void => {
    this.inBatch = false
    for (const c of this.held) {
      transmit(c, now)
      this.reschedule(c)
    }
    this.held.clear()
  }

  /**
   * Whether output may wait for the batch's end: not with out-of-order data
   * (duplicate ACKs go at once, RFC 5681 §4.2) nor with half the receive
   * buffer unacknowledged (the sender must not stall on a small window).
   * The latter is pushed: written before the rest of the batch is handled,
   * so the sender goes on meanwhile. An ACK every half buffer
   * measured faster over a TAP than every quarter or third (each a write
   * system call more) and than only at the batch's end (the sender idle
   * while the batch is handled).
   */
  private mayHold(c: Connection): boolean {
    return c.receiveBuffer.outOfOrder.isEmpty && seqDiff(c.rcvNxt, c.lastAckSent) < c.receiveBuffer.capacity / 2
  }

  /** Open a connection to `remoteAddress:remotePort` (from `localPort`, or an ephemeral port). */
  connect(remoteAddress: number, remotePort: number, now: number, localPort?: number): Connection | ConnectFailure {
    const localAddress = this.ip.sourceFor(remoteAddress)
    if (localAddress === undefined) return "no-route"
    let port = localPort
    if (port === undefined) {
      const start = this.random() % EPHEMERAL_COUNT
      for (let i = 0; i < EPHEMERAL_COUNT && port === undefined; i++) {
        const candidate = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT)
        if (!this.listeners.has(candidate) && this.find(localAddress, candidate, remoteAddress, remotePort) === undefined) {
          port = candidate
        }
      }
      if (port === undefined) return "no-ephemeral-port"
    }
    let iss = this.isn.next(localAddress, port, remoteAddress, remotePort, now)
    const old = this.find(localAddress, port, remoteAddress, remotePort)
    if (old !== undefined) {
      if (old.state !== "TIME-WAIT") return "address-in-use"
      // Reuse a TIME-WAIT tuple with sequence numbers above the old ones.
      if (!seqGt(iss, old.sndNxt)) iss = seqAdd(old.sndNxt, 65536)
      old.terminate("closed")
    }
    const c = this.register(this.block(localAddress, port, remoteAddress, remotePort, iss, false, now))
    sendSyn(c, now)
    this.reschedule(c)
    return c
  }

  /** Listen on `port` (RFC 9293 passive OPEN). */
  listen(port: number): Listener | ListenFailure {
    if (!Number.isInteger(port) || port <= 0 || port > 0xffff) return "invalid-port"
    if (this.listeners.has(port)) return "port-in-use"
    const listener = new Listener(port, this.config.backlog, this.config.synQueue)
    this.listeners.set(port, listener)
    return listener
  }

  /** Stop listening; connections not yet accepted are reset. */
  unlisten(listener: Listener, now: number): void {
    if (this.listeners.get(listener.port) === listener) this.listeners.delete(listener.port)
    for (const c of listener.drain()) c.abort(now)
  }

  /** The earliest timer deadline of all connections, or `undefined` when none runs. */
  nextDeadline(): number | undefined {
    return this.earliest
  }

  /** Run the timers due at `now`. */
  onTimers(now: number): void {
    const due: Array<Connection> = []
    let next: number | undefined
    for (const inner of this.connections.values()) {
      for (const c of inner.values()) {
        const d = c.deadline
        if (d === undefined) continue
        if (d <= now) due.push(c)
        else if (next === undefined || d < next) next = d
      }
    }
    this.earliest = next
    for (const c of due) {
      runTimers(c, now)
      this.reschedule(c)
    }
  }

  private reopens(c: Connection, seg: Segment): boolean {
    if (!isBareSyn(seg) || !this.listeners.has(c.localPort)) return false
    const ts = seg.options.timestamps
    return c.tsOk && ts !== undefined ? seqGt(ts.tsVal, c.tsRecent) : seqGt(seg.sequenceNumber, c.rcvNxt)
  }

  /** A connection's control block, not yet registered. */
  private block(
    localAddress: number,
    localPort: number,
    remoteAddress: number,
    remotePort: number,
    iss: number,
    passive: boolean,
    now: number,
    timestampOffset = this.isn.timestampOffset(localAddress, localPort, remoteAddress, remotePort),
  ): Connection {
    return new Connection(this.host, {
      localAddress,
      localPort,
      remoteAddress,
      remotePort,
      iss,
      maxSegment: this.ip.maxSegment,
      maxOffloadSegment: this.ip.maxOffloadSegment,
      pathSegment: this.ip.pathMtu(remoteAddress) - IPV4_HEADER_LENGTH,
      timestampOffset,
      passive,
    }, now)
  }

  /** Demultiplex segments of `c`'s 4-tuple to it from now on. */
  private register(c: Connection): Connection {
    this.lastFound = undefined
    const key = tupleKey(c.remoteAddress, c.remotePort)
    let inner = this.connections.get(key)
    if (inner === undefined) {
      inner = new Map()
      this.connections.set(key, inner)
    }
    inner.set(tupleKey(c.localAddress, c.localPort), c)
    return c
  }

  private passiveOpen(listener: Listener, source: number, destination: number, seg: Segment, now: number): void {
    if (this.config.synCookies && listener.synQueueFull) {
      this.sendCookie(listener, source, destination, seg, now)
      return
    }
    const iss = this.isn.next(destination, seg.destinationPort, source, seg.sourcePort, now)
    const c = this.register(this.block(destination, seg.destinationPort, source, seg.sourcePort, iss, true, now))
    this.owners.set(c, listener)
    listener.addHalfOpen(c)?.terminate("closed")
    negotiate(c, seg)
    sendSyn(c, now)
    this.reschedule(c)
  }

  /**
   * Answer a SYN with a SYN-ACK whose ISS is a cookie, keeping nothing: the
   * SYN-ACK comes from a control block that is not registered, whose TSval
   * (through its timestamp offset) carries the options the cookie cannot.
   */
  private sendCookie(listener: Listener, source: number, destination: number, seg: Segment, now: number): void {
    const options = cookieOptions(seg.options)
    const iss = this.cookies.make(destination, seg.destinationPort, source, seg.sourcePort, seg.sequenceNumber, options.mss!, now)
    const tsVal = encodeTsVal((this.isn.timestampOffset(destination, seg.destinationPort, source, seg.sourcePort) + Math.floor(now)) >>> 0, options)
    const c = this.block(destination, seg.destinationPort, source, seg.sourcePort, iss, true, now, (tsVal - Math.floor(now)) >>> 0)
    negotiate(c, { ...seg, options })
    c.ecnOk = false // a cookie cannot carry it: the connection it opens will not use ECN
    sendSyn(c, now)
    listener.cookieSentAt = now
    this.stats.synCookiesSent++
  }

  /**
   * An ACK for no connection at a listener: if it returns one of our
   * cookies, the connection it stands for, established with what the cookie
   * carried, and the segment processed in it. False if it is no cookie. A
   * valid cookie while the backlog is full is dropped, as the handshake's
   * last ACK would be: the peer sends again.
   */
  private openFromCookie(listener: Listener, source: number, destination: number, seg: Segment, now: number): boolean {
    if ((seg.flags & Flags.SYN) !== 0 || listener.cookieSentAt === undefined || now - listener.cookieSentAt > COOKIE_LIFETIME_MS) return false
    const peerIsn = seqAdd(seg.sequenceNumber, -1)
    const iss = seqAdd(seg.acknowledgmentNumber, -1)
    const mss = this.cookies.check(destination, seg.destinationPort, source, seg.sourcePort, peerIsn, iss, now)
    if (mss === undefined) return false
    if (listener.backlogFull) return true
    const c = this.register(this.block(destination, seg.destinationPort, source, seg.sourcePort, iss, true, now))
    this.owners.set(c, listener)
    negotiate(c, { ...seg, sequenceNumber: peerIsn, options: decodeOptions(mss, seg.options) })
    // The SYN-ACK went out, when is not known: no RTT sample but from the timestamps (Karn's rule).
    c.sndNxt = seqAdd(iss, 1)
    c.retries = 1
    this.stats.synCookiesAccepted++
    segmentArrives(c, seg, now)
    this.reschedule(c)
    return true
  }

  /** RFC 9293 §3.10.7.1: answer a segment for no connection with RST (never an RST). */
  private resetFor(source: number, destination: number, seg: Segment): void {
    if ((seg.flags & Flags.RST) !== 0) return
    const ack = (seg.flags & Flags.ACK) !== 0
    const length = seg.payload.length + ((seg.flags & Flags.SYN) !== 0 ? 1 : 0) + ((seg.flags & Flags.FIN) !== 0 ? 1 : 0)
    const header: Header = {
      sourcePort: seg.destinationPort,
      destinationPort: seg.sourcePort,
      sequenceNumber: ack ? seg.acknowledgmentNumber : 0,
      acknowledgmentNumber: ack ? 0 : seqAdd(seg.sequenceNumber, length),
      flags: ack ? Flags.RST : Flags.RST | Flags.ACK,
      window: 0,
      payloadLength: 0,
    }
    this.stats.resetsSent++
    this.ip.send(source, PROTOCOL, headerLength(), (buffer, offset, from, deviceChecksums) => {
      emit(header, buffer, offset, from === 0 ? destination : from, source, !deviceChecksums)
    })
  }

  private transmit(c: Connection, header: Header, payloadOffset: number, ect: boolean): void {
    if ((header.flags & Flags.RST) !== 0) this.stats.resetsSent++
    const hl = headerLength(header.options)
    this.ip.send(c.remoteAddress, PROTOCOL, hl + header.payloadLength, (buffer, offset, source, deviceChecksums) => {
      if (header.payloadLength > 0) c.sendBuffer.copyOut(payloadOffset, header.payloadLength, buffer, offset + hl)
      emit(header, buffer, offset, source, c.remoteAddress, !deviceChecksums)
    }, ect ? Ecn.Ect0 : Ecn.NotEct)
  }

  private remove(c: Connection): void {
    if (this.lastFound === c) this.lastFound = undefined
    const key = tupleKey(c.remoteAddress, c.remotePort)
    const inner = this.connections.get(key)
    const local = tupleKey(c.localAddress, c.localPort)
    if (inner?.get(local) === c) {
      inner.delete(local)
      if (inner.size === 0) this.connections.delete(key)
    }
    this.owners.get(c)?.forget(c)
    this.owners.delete(c)
  }

  private reschedule(c: Connection): void {
    const d = c.deadline
    if (d !== undefined && (this.earliest === undefined || d < this.earliest)) {
      this.earliest = d
      this.onWake()
    }
  }
}
