/**
 * A TCP connection: its control block (RFC 9293 §3.3.1 variables, RFC 7323
 * and RFC 2018 option state, timers as absolute deadlines) and the
 * application's calls on it (RFC 9293 §3.10: SEND, RECEIVE, CLOSE, ABORT).
 * Segment arrival is in `input.ts`, segment sending in `output.ts`, timer
 * expiry in `timers.ts`; all of it is plain synchronous code driven by the
 * engine with the current time.
 */
import type { Header, SackBlock } from "../wire/tcp.ts"
import { MAX_WINDOW_SCALE, MIN_HEADER_LENGTH } from "../wire/tcp.ts"
import { seqAdd, seqDiff } from "../wire/seq.ts"
import type { KeepaliveConfig, TcpConfig } from "./config.ts"
import { Congestion } from "./congestion.ts"
import { Rack } from "./rack.ts"
import { sendAck, sendReset, transmit } from "./output.ts"
import { ReceiveBuffer } from "./receiveBuffer.ts"
import { ByteRing } from "./ring.ts"
import { RttEstimator } from "./rtt.ts"
import { Scoreboard } from "./scoreboard.ts"

/** The states of RFC 9293 §3.3.2 a connection goes through (LISTEN is a listener's). */
export type TcpState =
  | "SYN-SENT"
  | "SYN-RECEIVED"
  | "ESTABLISHED"
  | "FIN-WAIT-1"
  | "FIN-WAIT-2"
  | "CLOSE-WAIT"
  | "CLOSING"
  | "LAST-ACK"
  | "TIME-WAIT"
  | "CLOSED"

/**
 * Why a connection ended: `closed` normally; `reset` by the peer's RST;
 * `refused` by an RST answering our SYN (or an ICMP port or protocol
 * unreachable); `unreachable` by another ICMP destination unreachable
 * answering it; `timeout` when retransmissions, the opening handshake or
 * keepalive gave up; `aborted` by us.
 */
export type CloseReason = "closed" | "reset" | "refused" | "unreachable" | "timeout" | "aborted"

/** What a connection needs from the engine that owns it. */
export interface ConnectionHost {
  readonly config: TcpConfig
  /**
   * Send one segment whose data is `header.payloadLength` bytes at
   * `payloadOffset` of the send buffer; `ect`: in an ECN-capable packet
   * (ECT(0), RFC 3168 §6.1.1).
   */
  readonly transmit: (connection: Connection, header: Header, payloadOffset: number, ect: boolean) => void
  /** A passively opened connection completed its handshake; false if the listener's backlog is full. */
  readonly established: (connection: Connection) => boolean
  /** The connection reached CLOSED: forget it. */
  readonly closed: (connection: Connection) => void
  /** The connection's timers may have changed. */
  readonly reschedule: (connection: Connection) => void
  /**
   * A segment was processed: send what the connection may send now
   * (`transmit`), or later in the same batch of received segments.
   */
  readonly output: (connection: Connection, now: number) => void
}

/** A range `[start, end)` of the send sequence space. */
export interface SendRange {
  readonly start: number
  readonly end: number
}

/** A range sent again: when, and its place in the order of transmission (`Connection.segmentsSent` then). */
export interface SentAgain extends SendRange {
  readonly at: number
  readonly order: number
}

/** The identity and initial numbers of a new connection. */
export interface ConnectionInit {
  readonly localAddress: number
  readonly localPort: number
  readonly remoteAddress: number
  readonly remotePort: number
  /** Our initial sequence number (RFC 6528). */
  readonly iss: number
  /** The largest segment (header included) the IP layer sends toward the peer. */
  readonly maxSegment: number
  /** The largest segment (header included) cut into `maxSegment` pieces on the way out (the link's TSO, or software segmentation); `maxSegment` without. */
  readonly maxOffloadSegment: number
  /** The largest segment (header included) known to reach the peer: `maxSegment`, or less on a path with a smaller MTU (RFC 1191). */
  readonly pathSegment: number
  /** Added to the clock for our TSval (RFC 7323 §7.1, a per-connection random offset). */
  readonly timestampOffset: number
  /** Opened by a listener (SYN-RECEIVED from LISTEN) rather than by `connect`. */
  readonly passive: boolean
}

/** A connection's control block and its application interface. */
export class Connection {
  readonly host: ConnectionHost
  readonly config: TcpConfig
  readonly localAddress: number
  readonly localPort: number
  readonly remoteAddress: number
  readonly remotePort: number
  readonly passive: boolean
  state: TcpState
  /** Set when the state becomes CLOSED. */
  closeReason: CloseReason | undefined = undefined
  /** What the connection was doing when it timed out. */
  timeoutDuring = ""
  /** Why the network said the peer cannot be reached (`unreachable`). */
  unreachableBecause = ""
  /**
   * The last ICMP destination unreachable about data in flight (a soft
   * error), until the peer acknowledges new data: a timeout then ends the
   * connection as `unreachable` for it rather than as `timeout`.
   */
  softError = ""
  /** Called whenever something the application waits for may have changed. */
  notify: () => void = () => {}

  // --- send sequence space (RFC 9293 §3.3.1)
  readonly iss: number
  sndUna: number
  sndNxt: number
  sndWnd = 0
  sndWl1 = 0
  sndWl2 = 0
  /** The largest window the peer offered (RFC 5961 §5 MAX.SND.WND). */
  maxSndWnd = 0
  /** The peer's window scale. */
  sndShift = 0
  /** Payload bytes per segment after fixed options (RFC 6691). */
  sndMss: number
  /** The MSS we announce: the IP layer's segment limit less the TCP header. */
  readonly announcedMss: number
  /** The MSS the peer announced (536 when it did not, RFC 9293 §3.7.1). */
  peerMss = 536
  /** The MSS the path to the peer takes: its MTU less the IPv4 and TCP headers (RFC 1191). */
  pathMss: number
  /** The segmentation limit for a whole segment, header included (`ConnectionInit.maxOffloadSegment`). */
  readonly maxOffloadSegment: number
  /**
   * Wire segments one transmitted segment may span (TCP segmentation
   * offload): 1, unless the link segments TCP itself and the peer takes our
   * full MSS, so the link's cut (MTU less headers) matches `sndMss`.
   */
  burstSegments = 1
  /** Bytes from `sndBase` on: unacknowledged and unsent data. */
  readonly sendBuffer: ByteRing
  /**
   * The rest of a `sendAll` that did not fit in the send buffer: ACKs move
   * it in as they free room, and it goes out in the same pass, as lwIP's
   * netconn writes do, so a blocked writer is woken once, when all of it is
   * in, not once per ACK. The application's bytes are referenced, not
   * copied: they must not change until then.
   */
  private unqueued: Uint8Array | undefined = undefined
  /** The sequence number of `sendBuffer`'s first byte. */
  sndBase: number
  /** The application shut down its sending side: a FIN follows the data. */
  finQueued = false
  /** The FIN was sent (at `finSeq`). */
  finSent = false
  finSeq = 0

  // --- receive sequence space
  irs = 0
  rcvNxt = 0
  /** Our window scale. */
  rcvShift = 0
  /** The right edge of the window last advertised. */
  rcvAdvertised = 0
  readonly receiveBuffer: ReceiveBuffer
  /** The peer's FIN was received (RCV.NXT is past it). */
  finReceived = false
  /** Where an out-of-order FIN sits, until RCV.NXT reaches it. */
  pendingFin: number | undefined = undefined
  /** The largest payload received: the peer's effective MSS for delayed ACKs. */
  rcvMss = 536
  /** RCV.NXT in the last segment we sent (RFC 7323 Last.ACK.sent). */
  lastAckSent = 0
  /** Data received twice, to report once as the first SACK block of the next ACK (D-SACK, RFC 2883). */
  duplicate: SackBlock | undefined = undefined

  // --- options (RFC 7323, RFC 2018)
  /** Timestamps negotiated. */
  tsOk: boolean
  /** SACK negotiated. */
  sackOk: boolean
  /** Window scaling negotiated (or offered, before the SYN is answered). */
  wsOk: boolean
  tsRecent = 0
  readonly timestampOffset: number

  // --- reliability and congestion
  readonly rtt: RttEstimator
  congestion: Congestion
  readonly scoreboard: Scoreboard
  /** Loss detection by time (RFC 8985 §6), with SACK. */
  readonly rack = new Rack()
  /** Loss recovery: retransmit holes from `rtxNext` up to `rtxLimit` (undefined: not recovering). */
  rtxNext = 0
  rtxLimit: number | undefined = undefined
  /** The next retransmission goes out whatever the congestion window (RFC 5681 §3.2 step 3). */
  rtxForce = false
  /** The retransmissions of this pass not known delivered: the range sent again, and SND.NXT when it went. */
  readonly retransmitted: Array<SentAgain> = []
  /** Ranges whose retransmission was lost too: sent again before any other hole. */
  readonly lostAgain: Array<SendRange> = []
  /** Consecutive retransmission timeouts without progress. */
  retries = 0
  /** Karn's rule timing without timestamps: the segment end being timed and when it was sent. */
  rttSeq: number | undefined = undefined
  rttSentAt = 0
  /** Send an ACK at the next output, even without data. */
  ackNow = false
  /** When a segment last arrived, and when an ACK last did (zero-window retransmissions, keepalive). */
  lastReceivedAt: number
  lastAckReceivedAt: number
  /** When data (or a FIN) last went out, new or again: an idle sender restarts its window (RFC 5681 §4.1). */
  lastDataSentAt: number | undefined = undefined
  /** Zero-window probes and keepalive probes sent without an answer. */
  probes = 0
  /** Zero-window probes sent since the window closed (their backoff). */
  persistBackoff = 0
  /** Challenge ACKs sent in the current second (RFC 5961 §7) and when that second began. */
  challengeAcks = 0
  challengeSince = 0
  /** The application closed (not just shut down): later data gets an RST (RFC 1122 §4.2.2.13). */
  appClosed = false
  noDelay: boolean
  /** Keepalive probing of this connection, or `undefined` for none (the engine's by default). */
  keepalive: KeepaliveConfig | undefined
  /** Segments sent, and how many of them were retransmissions (for tests and statistics). */
  segmentsSent = 0
  retransmissions = 0
  /** Tail loss probes sent (RFC 8985 §7). */
  lossProbes = 0
  /** Retransmissions found lost, and so sent again, without a retransmission timeout. */
  lostRetransmissions = 0
  /** Loss cuts of the congestion window undone because they proved needless (D-SACKs, RFC 3708; timestamps, RFC 3522). */
  cutsUndone = 0
  /** With timestamps: the TSval of the first retransmission after a timeout, until an ACK of new data says whether it was needed (RFC 3522). */
  timeoutTsVal: number | undefined = undefined

  // --- ECN (RFC 3168)
  /** ECN was negotiated: new data goes out ECN-capable, and congestion marks are echoed and answered. */
  ecnOk = false
  /** A packet of the peer's came marked Congestion Experienced: our segments carry ECE until its CWR (§6.1.3). */
  ecnEcho = false
  /** The window was cut for an ECE: the next new data carries CWR (§6.1.2). */
  cwrPending = false
  /** No cut for ECE again until SND.UNA passes this, the window's end: once per window of data (§6.1.2). */
  ecnRecover: number
  /** Window cuts for the peer's ECE (for tests and statistics). */
  ecnReductions = 0
  /** SND.NXT when the last loss probe went out, while its ACKs have not yet told whether it repaired a loss (the TLP episode). */
  probeEnd: number | undefined = undefined

  // --- timers (absolute ms, undefined when stopped)
  rtxAt: number | undefined = undefined
  /** The tail loss probe (RFC 8985 §7.2): earlier than `rtxAt` when armed. */
  probeAt: number | undefined = undefined
  /** RACK's reordering timer (RFC 8985 §6.3): missing data sent before delivered data will then count as lost. */
  reorderAt: number | undefined = undefined
  /** The deadlines `rtxAt` and `probeAt` were last restarted to after a stall (each restarts once). */
  rtxRestartedTo: number | undefined = undefined
  probeRestartedTo: number | undefined = undefined
  persistAt: number | undefined = undefined
  delackAt: number | undefined = undefined
  keepaliveAt: number | undefined = undefined
  closeAt: number | undefined = undefined

  constructor(host: ConnectionHost, init: ConnectionInit, now: number) {
    this.host = host
    this.config = host.config
    this.localAddress = init.localAddress
    this.localPort = init.localPort
    this.remoteAddress = init.remoteAddress
    this.remotePort = init.remotePort
    this.passive = init.passive
    this.state = init.passive ? "SYN-RECEIVED" : "SYN-SENT"
    this.iss = init.iss
    this.sndUna = init.iss
    this.sndNxt = init.iss
    this.sndBase = seqAdd(init.iss, 1)
    this.ecnRecover = init.iss
    this.announcedMss = Math.max(1, Math.min(0xffff, init.maxSegment - MIN_HEADER_LENGTH))
    this.maxOffloadSegment = init.maxOffloadSegment
    this.pathMss = Math.max(1, Math.min(this.announcedMss, init.pathSegment - MIN_HEADER_LENGTH))
    this.sndMss = Math.min(536, this.pathMss)
    this.sendBuffer = new ByteRing(this.config.sendBuffer)
    this.receiveBuffer = new ReceiveBuffer(this.config.receiveBuffer, this.config.maxOutOfOrderRanges)
    this.tsOk = this.config.timestamps
    this.sackOk = this.config.sack
    this.wsOk = this.config.windowScaling
    while (this.wsOk && this.rcvShift < MAX_WINDOW_SCALE && this.receiveBuffer.capacity >>> this.rcvShift > 0xffff) this.rcvShift++
    this.timestampOffset = init.timestampOffset
    this.rtt = new RttEstimator(this.config.rtoInitialMs, this.config.rtoMinMs, this.config.rtoMaxMs)
    this.congestion = new Congestion(this.sndMss, init.iss)
    this.scoreboard = new Scoreboard(4 * this.config.maxOutOfOrderRanges)
    this.noDelay = this.config.noDelay
    this.keepalive = this.config.keepalive
    this.lastReceivedAt = now
    this.lastAckReceivedAt = now
  }

  /** Bytes sent and not yet acknowledged (SYN and FIN included). */
  get flight(): number {
    return seqDiff(this.sndNxt, this.sndUna)
  }

  /** The sequence number after the last byte queued by the application. */
  get queuedEnd(): number {
    return seqAdd(this.sndBase, this.sendBuffer.length)
  }

  /** Our TSval now. */
  tsVal(now: number): number {
    return (Math.floor(now) + this.timestampOffset) >>> 0
  }

  /** The application may still queue data. */
  get canSend(): boolean {
    return (this.state === "ESTABLISHED" || this.state === "CLOSE-WAIT") && !this.finQueued
  }

  /** Room in the send buffer. */
  get sendRoom(): number {
    return this.sendBuffer.free
  }

  /** Every byte before the peer's FIN was read: the receive side is at its end. */
  get atEndOfStream(): boolean {
    return this.finReceived && this.receiveBuffer.readable === 0
  }

  /** The handshake completed at some point (the connection is or was synchronized). */
  get synchronized(): boolean {
    return this.state !== "SYN-SENT" && this.state !== "SYN-RECEIVED" && this.state !== "CLOSED"
  }

  /** Queue bytes to send (RFC 9293 SEND); returns how many fit in the send buffer. */
  send(data: Uint8Array, now: number): number {
    if (!this.canSend) return 0
    const taken = this.sendBuffer.append(data)
    if (taken > 0) transmit(this, now)
    this.host.reschedule(this)
    return taken
  }

  /**
   * Queue all of `data` (RFC 9293 SEND): what fits now, the rest as ACKs
   * free room; true when all of it is in the send buffer already. Else
   * `sendWaiting` holds until it is, unless the connection can no longer
   * send (`canSend`), when the rest is dropped.
   */
  sendAll(data: Uint8Array, now: number): boolean {
    const taken = this.send(data, now)
    if (taken >= data.length) return true
    if (this.canSend) this.unqueued = data.subarray(taken)
    return false
  }

  /** Bytes of a `sendAll` still wait for room in the send buffer. */
  get sendWaiting(): boolean {
    return this.unqueued !== undefined
  }

  /** Forget the bytes of a `sendAll` not queued yet (the writer gave up); what is queued stays. */
  abandonSend(): void {
    this.unqueued = undefined
  }

  /**
   * Move what waits of a `sendAll` into the room ACKs freed (the caller
   * sends it); true once nothing waits any more, when the writer is to be told.
   */
  refillSendBuffer(): boolean {
    const waiting = this.unqueued
    if (waiting === undefined) return true
    if (!this.canSend) {
      this.unqueued = undefined
      return true
    }
    const taken = this.sendBuffer.append(waiting)
    this.unqueued = taken >= waiting.length ? undefined : waiting.subarray(taken)
    return this.unqueued === undefined
  }

  /** Take up to `max` received bytes (RFC 9293 RECEIVE), or `undefined` when none are waiting. */
  receive(max: number, now: number): Uint8Array | undefined {
    const n = Math.min(max, this.receiveBuffer.readable)
    if (n === 0) return undefined
    const data = new Uint8Array(n)
    const got = this.receiveInto(data, now)
    return got === 0 ? undefined : got < n ? data.subarray(0, got) : data
  }

  /** Move up to `buffer.length` received bytes to the start of `buffer` (RFC 9293 RECEIVE); how many (0: none waiting). */
  receiveInto(buffer: Uint8Array, now: number): number {
    const n = this.receiveBuffer.readInto(buffer)
    if (n > 0 && this.synchronized && !this.finReceived) {
      // Window update once the window we could offer is at least double the one
      // the peer knows (and the difference beats receiver SWS, RFC 9293 §3.8.6.2.2).
      const announced = Math.max(0, seqDiff(this.rcvAdvertised, this.rcvNxt))
      const free = this.receiveBuffer.window
      const capacity = this.receiveBuffer.capacity
      if (2 * announced <= capacity && free >= 2 * announced && free - announced >= Math.min(capacity / 2, this.announcedMss)) {
        this.ackNow = true
        transmit(this, now)
      }
      this.host.reschedule(this)
    }
    return n
  }

  /** Set or clear Nagle's algorithm for this connection (RFC 896; `true` sends small segments at once). */
  setNoDelay(noDelay: boolean, now: number): void {
    this.noDelay = noDelay
    if (noDelay && this.synchronized) transmit(this, now)
    this.host.reschedule(this)
  }

  /**
   * Start, change or stop (`undefined`) keepalive probing of this
   * connection (RFC 1122 §4.2.3.6): once established, the first probe
   * follows `idleMs` of silence from now.
   */
  setKeepalive(keepalive: KeepaliveConfig | undefined, now: number): void {
    this.keepalive = keepalive
    this.keepaliveAt = keepalive !== undefined && this.synchronized ? now + keepalive.idleMs : undefined
    this.host.reschedule(this)
  }

  /** Close the sending side (RFC 9293 CLOSE): a FIN follows the queued data. */
  shutdown(now: number): void {
    switch (this.state) {
      case "SYN-SENT":
        this.terminate("closed")
        return
      case "SYN-RECEIVED":
      case "ESTABLISHED":
        this.finQueued = true
        this.state = this.state === "ESTABLISHED" ? "FIN-WAIT-1" : this.state
        break
      case "CLOSE-WAIT":
        this.finQueued = true
        this.state = "LAST-ACK"
        break
      default:
        return
    }
    if (this.state !== "SYN-RECEIVED") transmit(this, now)
    this.host.reschedule(this)
  }

  /**
   * Close both directions: shut down, and answer any later data with an RST;
   * with unread data waiting, reset at once (RFC 1122 §4.2.2.13, RFC 2525 §2.17).
   */
  close(now: number): void {
    this.appClosed = true
    if (this.receiveBuffer.readable > 0 && this.synchronized) {
      this.abort(now)
      return
    }
    this.shutdown(now)
  }

  /** Reset the connection (RFC 9293 ABORT). */
  abort(now: number): void {
    if (this.state === "CLOSED") return
    if (this.state !== "SYN-SENT" && this.state !== "TIME-WAIT") sendReset(this, this.sndNxt, now)
    this.terminate("aborted")
  }

  /** Move to CLOSED for `reason`, stop the timers and tell the engine and the application. */
  terminate(reason: CloseReason): void {
    if (this.state === "CLOSED") return
    this.state = "CLOSED"
    this.closeReason = reason
    this.unqueued = undefined
    this.sendBuffer.recycle()
    this.receiveBuffer.recycle()
    this.rtxAt = undefined
    this.probeAt = undefined
    this.reorderAt = undefined
    this.persistAt = undefined
    this.delackAt = undefined
    this.keepaliveAt = undefined
    this.closeAt = undefined
    this.host.closed(this)
    this.notify()
  }

  /** Enter TIME-WAIT (RFC 9293 §3.10.7.4) for twice the MSL. */
  enterTimeWait(now: number): void {
    this.state = "TIME-WAIT"
    this.rtxAt = undefined
    this.probeAt = undefined
    this.reorderAt = undefined
    this.persistAt = undefined
    this.keepaliveAt = undefined
    this.closeAt = now + 2 * this.config.mslMs
    if (this.ackNow) sendAck(this, now)
  }

  /** The earliest timer deadline, or `undefined` when no timer runs. */
  get deadline(): number | undefined {
    const retransmit = earliest(earliest(earliest(this.rtxAt, this.probeAt), this.reorderAt), this.persistAt)
    return earliest(earliest(retransmit, earliest(this.delackAt, this.keepaliveAt)), this.closeAt)
  }
}

/** The earlier of two optional deadlines. */
const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b
