/**
 * The IPv4 layer of the direct stack as one synchronous state machine over
 * Ethernet frames: ARP, IPv4 input (filtering, reassembly), ICMP echo,
 * dispatch to transport protocols, and output (routing, fragmentation, ARP
 * resolution). No Effect and no I/O: frames come in through `receive`,
 * frames to send pile up in an outbox taken with `takeOutput`, timers run
 * when the shell calls `tick` at `nextDeadline()`. The clock is the `now`
 * function given at creation (Effect's `Clock` in the shell, so `TestClock`
 * drives it).
 *
 * Transports (UDP, TCP) plug in with `register` and send through `sender`
 * (the `IpSender` of `direct/Transport.ts`). A TCP segment nobody claims is
 * answered with a reset, any other unclaimed protocol with an ICMP protocol
 * unreachable (RFC 1122 §3.2.2.1, §4.2.2.13), and a datagram whose
 * reassembly timed out, after its first fragment came, with an ICMP time
 * exceeded (RFC 1122 §3.3.2, as Linux).
 */
import type { IpSender, TransportProtocol } from "../direct/Transport.ts"
import type { Ipv4, Ipv4Cidr, Mac } from "../wire/addr.ts"
import { MAC_BROADCAST, MAC_ZERO, formatIpv4, writeMac } from "../wire/addr.ts"
import * as ArpWire from "../wire/arp.ts"
import * as Ethernet from "../wire/ethernet.ts"
import * as Icmpv4 from "../wire/icmpv4.ts"
import * as Ipv4Wire from "../wire/ipv4.ts"
import * as Tcp from "../wire/tcp.ts"
import { ArpEngine, ethernetDestination } from "./arp.ts"
import type { ArpLimits, Failed, Resolved } from "./arp.ts"
import { cryptoRandom } from "./cryptoRandom.ts"
import { echoLength, quoteOf, writeEcho, writeError } from "./icmp.ts"
import type { ErrorType } from "./icmp.ts"
import { Identification } from "./identification.ts"
import type { RateLimit } from "./tokenBucket.ts"
import { TokenBucket } from "./tokenBucket.ts"
import { FramePool } from "../FramePool.ts"
import type { FrameBatch } from "../Netif.ts"
import { packetize } from "./packetize.ts"
import { segmentTcp } from "./segmentation.ts"
import { announcedMtu, PathMtus } from "./pathMtu.ts"
import type { PayloadWriter } from "./packetize.ts"
import { Reassembly } from "./reassembly.ts"
import type { ReassemblyLimits } from "./reassembly.ts"
import { accepts, route, validSource } from "./route.ts"
import type { Interface } from "./route.ts"
import { RESET_LENGTH, resetFor, writeReset } from "./tcpReset.ts"

/** What an IPv4 engine is made of. */
export interface Ipv4EngineOptions {
  readonly mac: Mac
  /** The link MTU: the largest IPv4 packet (the Ethernet payload). */
  readonly mtu: number
  /** The largest TCP packet the link segments itself (`Netif.tcpSegmentation`); absent: none. */
  readonly tcpSegmentation?: number | undefined
  /** The link completes TCP and UDP checksums of whole packets (`Netif.checksumOffload`). */
  readonly checksumOffload?: boolean | undefined
  readonly cidr: Ipv4Cidr
  readonly gateway?: Ipv4 | undefined
  /** ARP entries that never expire and win over learned ones. */
  readonly staticArp?: ReadonlyMap<Ipv4, Mac>
  readonly arpLimits?: Partial<ArpLimits>
  readonly reassemblyLimits?: Partial<ReassemblyLimits>
  /** The rate of ICMP errors we send (destination unreachable, time exceeded); default 1000 a second, 50 at once, as Linux. */
  readonly icmpErrorLimit?: Partial<RateLimit>
  /** Send TCP packets with Don't Fragment and learn path MTUs from ICMP (RFC 1191); default true, as Linux. */
  readonly pathMtuDiscovery?: boolean | undefined
  /**
   * When the link does not segment TCP itself, take TCP packets of up to 64
   * KiB and cut them into MTU-sized segments just before the device
   * (segmentation.ts, Linux's GSO); default true. False: TCP sends one
   * MTU-sized segment at a time.
   */
  readonly softwareSegmentation?: boolean | undefined
  /** The clock, in milliseconds. */
  readonly now: () => number
  /** TTL of the packets we send (default 64). */
  readonly ttl?: number
  /** 32-bit random values for the identification key and counters (default: `crypto.getRandomValues`). */
  readonly random?: () => number
  /** Called when the outbox goes from empty to non-empty. */
  readonly onOutput?: () => void
  /** Called when a deadline appears that is earlier than the one the timer is armed for. */
  readonly onDeadline?: () => void
}

/** Sees the ICMP messages received other than echo requests (echo replies, errors). */
export type IcmpObserver = (source: Ipv4, message: Icmpv4.Message, now: number) => void

/** Whether a destination's next hop is known. */
export type Resolution =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "NoRoute"; readonly reason: string }
  /** ARP is asking; the callback will be called; `cancel` forgets it. */
  | { readonly _tag: "Waiting"; readonly cancel: () => void }

/** Called once a resolution ends: `undefined` when resolved, else why not. */
export type ResolutionCallback = (problem: string | undefined) => void

/** Counters of the IPv4 layer. */
export interface Ipv4Stats {
  framesReceived: number
  /** Frames or packets that are not for us (other MACs, other addresses). */
  notForUs: number
  /** Frames or packets that failed to parse. */
  malformed: number
  /** Packets (or reassembled datagrams) handed to ICMP or a transport. */
  delivered: number
  /** Packets of a protocol nobody handles. */
  noProtocol: number
  packetsSent: number
  fragmentsSent: number
  /** Wire segments cut from larger TCP packets by software segmentation. */
  segmentsCut: number
  /** Packets not sent: no route, too big, or the ARP queue full. */
  sendDropped: number
  echoReplies: number
  tcpResets: number
  icmpErrors: number
  /** ICMP errors not sent for the rate limit. */
  icmpErrorsLimited: number
  /** Exceptions thrown while handling a frame (a bug; the frame is dropped). */
  faults: number
}

const READY: Resolution = { _tag: "Ready" }
const NO_FRAMES: ReadonlyArray<Uint8Array> = []
/** Linux's defaults (net.ipv4.icmp_msgs_per_sec and icmp_msgs_burst). */
const DEFAULT_ICMP_ERROR_LIMIT: RateLimit = { perSecond: 1000, burst: 50 }
/** Fault messages kept between two `takeFaults`. */
const MAX_FAULTS = 16

/** The IPv4 layer over one Ethernet interface. */
export class Ipv4Engine {
  /** Counters since creation. */
  readonly stats: Ipv4Stats = {
    framesReceived: 0, notForUs: 0, malformed: 0, delivered: 0, noProtocol: 0, packetsSent: 0, fragmentsSent: 0, segmentsCut: 0,
    sendDropped: 0, echoReplies: 0, tcpResets: 0, icmpErrors: 0, icmpErrorsLimited: 0, faults: 0,
  }
  /** The ARP cache and resolver. */
  readonly arp: ArpEngine<Uint8Array>
  /** The reassembly buffer. */
  readonly reassembly: Reassembly
  /** Our address, subnet and gateway. */
  readonly iface: Interface
  /** What transports send with. */
  readonly sender: IpSender
  private readonly mac: Mac
  private readonly mtu: number
  /** The largest TCP packet the link takes unfragmented: its segmentation limit, or the MTU. */
  private readonly tcpPacketLimit: number
  /** TCP packets over the MTU are cut here (`segmentTcp`), into this buffer first; undefined when the link does it or it is off. */
  private readonly segmentationBuffer: Uint8Array | undefined
  private readonly deviceChecksums: boolean
  private readonly pathMtuDiscovery: boolean
  private readonly pathMtus: PathMtus
  private readonly ttl: number
  private readonly now: () => number
  private readonly onOutput: () => void
  private readonly onDeadline: () => void
  private readonly buffers = new FramePool()
  private readonly transports = new Array<TransportProtocol | undefined>(256)
  /** The registered transports that want to see batches begin and end. */
  private batched: ReadonlyArray<TransportProtocol> = []
  /** A transport pushed during the current frame: `receive` stops after it. */
  private pushed = false
  private readonly icmpObservers = new Set<IcmpObserver>()
  private readonly waiters = new Map<Ipv4, Set<ResolutionCallback>>()
  private out: Array<Uint8Array> = []
  private faults: Array<string> = []
  private readonly identification: Identification
  private readonly icmpErrorBucket: TokenBucket
  private armed = Infinity
  private deadlinesMoved = false
  /**
   * The packet being delivered, for `unreachable`: its header (the bytes
   * holding it, undefined outside a delivery, where in them it starts and its
   * length), payload (the bytes holding it, where it starts and ends: views
   * are made only for an error) and source.
   */
  private currentHeaderBytes: Uint8Array | undefined = undefined
  private currentHeaderStart = 0
  private currentHeaderLength = 0
  private currentPayloadBytes: Uint8Array = new Uint8Array(0)
  private currentPayloadStart = 0
  private currentPayloadEnd = 0
  private currentSource: Ipv4 = 0
  private currentUnicast = false

  constructor(options: Ipv4EngineOptions) {
    if (!(options.mtu >= 68)) throw new RangeError(`Ipv4Engine: MTU ${options.mtu} is below IPv4's minimum of 68`)
    this.mac = options.mac
    this.mtu = Math.min(options.mtu, Ipv4Wire.MAX_PACKET_LENGTH)
    const software = options.tcpSegmentation === undefined && options.softwareSegmentation !== false
    this.segmentationBuffer = software ? new Uint8Array(Ipv4Wire.MAX_PACKET_LENGTH) : undefined
    this.tcpPacketLimit = Math.min(Math.max(this.mtu, options.tcpSegmentation ?? 0), Ipv4Wire.MAX_PACKET_LENGTH)
    this.deviceChecksums = options.checksumOffload === true
    this.pathMtuDiscovery = options.pathMtuDiscovery !== false
    this.pathMtus = new PathMtus(this.mtu)
    this.ttl = options.ttl ?? Ipv4Wire.DEFAULT_TTL
    this.now = options.now
    this.onOutput = options.onOutput ?? (() => {})
    this.onDeadline = options.onDeadline ?? (() => {})
    this.identification = new Identification(options.random ?? cryptoRandom)
    this.icmpErrorBucket = new TokenBucket({ ...DEFAULT_ICMP_ERROR_LIMIT, ...options.icmpErrorLimit })
    this.iface = { cidr: options.cidr, gateway: options.gateway }
    this.arp = new ArpEngine({
      mac: options.mac,
      addresses: [options.cidr.address],
      ...(options.staticArp === undefined ? {} : { staticEntries: options.staticArp }),
      ...(options.arpLimits === undefined ? {} : { limits: options.arpLimits }),
    })
    this.reassembly = new Reassembly(options.reassemblyLimits)
    this.sender = {
      sourceFor: (destination) => (route(this.iface, destination)._tag === "NoRoute" ? undefined : this.iface.cidr.address),
      maxSegment: this.mtu - Ipv4Wire.MIN_HEADER_LENGTH,
      maxOffloadSegment: (software ? Ipv4Wire.MAX_PACKET_LENGTH : this.tcpPacketLimit) - Ipv4Wire.MIN_HEADER_LENGTH,
      pathMtu: (destination) => this.pathMtus.get(destination, this.now()),
      reducePathMtu: (destination, mtu) => this.pathMtus.reduce(destination, mtu, this.now()),
      send: (destination, protocol, length, write, ecn) => this.send(destination, protocol, length, write, ecn),
      push: () => {
        this.pushed = true
      },
    }
  }

  /** Our IPv4 address. */
  get address(): Ipv4 {
    return this.iface.cidr.address
  }

  /** Queue gratuitous ARP announcements of our address (at start). */
  announce(): void {
    for (const header of this.arp.announce()) this.sendArp(header)
  }

  /**
   * Handle a batch of received frames from `frames[start]` (transports see
   * it begin, at 0, and end). Returns where it stopped: `frames.length`, or
   * earlier when a transport pushed (`IpSender.push`): the caller writes
   * the output queued so far, then calls again from there.
   */
  receive(frames: FrameBatch, start = 0): number {
    const now = this.now()
    const batched = this.batched
    const verified = frames.checksumVerified
    if (start === 0) {
      this.stats.framesReceived += frames.length
      for (const transport of batched) transport.beginBatch!()
    }
    for (let i = start; i < frames.length; i++) {
      try {
        this.frame(frames[i]!, now, verified !== undefined && verified[i] === 1)
      } catch (error) {
        this.fault(error)
      }
      if (this.pushed && i + 1 < frames.length) {
        this.pushed = false
        return i + 1
      }
    }
    this.pushed = false
    for (const transport of batched) {
      try {
        transport.endBatch!(now)
      } catch (error) {
        this.fault(error)
      }
    }
    this.checkDeadline()
    return frames.length
  }

  /** Run the timers that are due: ARP retries and give-ups, reassembly timeouts. */
  tick(): void {
    const now = this.now()
    const { requests, failed } = this.arp.tick(now)
    for (const header of requests) this.sendArp(header)
    for (const failure of failed) this.fail(failure)
    for (const { header, leading } of this.reassembly.expire(now)) {
      const datagram = Ipv4Wire.parseEmbedded(header)
      if (datagram._tag !== "Ipv4Packet" || datagram.destination !== this.iface.cidr.address) continue
      this.sendError(datagram.source, Icmpv4.Type.TimeExceeded, Icmpv4.TimeExceededCode.FragmentReassemblyTimeExceeded, header, leading)
    }
  }

  /** When `tick` has work next, or undefined when no timer runs. */
  nextDeadline(): number | undefined {
    const arp = this.arp.nextDeadline()
    const reassembly = this.reassembly.nextDeadline()
    return arp === undefined ? reassembly : reassembly === undefined ? arp : Math.min(arp, reassembly)
  }

  /** The next deadline, which the timer now sleeps toward (earlier ones will call `onDeadline`). */
  armTimer(): number | undefined {
    const next = this.nextDeadline()
    this.armed = next ?? Infinity
    return next
  }

  /** Hands back frames from `takeOutput` once the device took them: their buffers are reused. */
  releaseOutput(frames: ReadonlyArray<Uint8Array>): void {
    this.buffers.release(frames)
  }

  /** The frames to send, in order; the outbox is empty afterwards. */
  takeOutput(): ReadonlyArray<Uint8Array> {
    if (this.out.length === 0) return NO_FRAMES
    const frames = this.out
    this.out = []
    return frames
  }

  /** Descriptions of the faults since the last call (at most 16). */
  takeFaults(): ReadonlyArray<string> {
    const faults = this.faults
    this.faults = []
    return faults
  }

  /** Plug a transport in for its protocol; returns the function that unplugs it. Throws if the protocol is taken. */
  register(transport: TransportProtocol): () => void {
    const protocol = transport.protocol
    if (protocol === Ipv4Wire.Protocol.Icmp || !(protocol >= 0 && protocol <= 255 && Number.isInteger(protocol))) {
      throw new RangeError(`IPv4 protocol ${protocol} cannot be registered: use 0..255 except 1 (ICMP is built in)`)
    }
    if (this.transports[protocol] !== undefined) throw new RangeError(`IPv4 protocol ${protocol} is already registered`)
    this.transports[protocol] = transport
    if (transport.beginBatch !== undefined && transport.endBatch !== undefined) this.batched = [...this.batched, transport]
    return () => {
      if (this.transports[protocol] === transport) this.transports[protocol] = undefined
      this.batched = this.batched.filter((t) => t !== transport)
    }
  }

  /** Let `observer` see received ICMP messages; returns the function that stops it. */
  observeIcmp(observer: IcmpObserver): () => void {
    this.icmpObservers.add(observer)
    return () => this.icmpObservers.delete(observer)
  }

  /**
   * Answer the packet being delivered (during a `TransportProtocol.input`)
   * with an ICMP destination unreachable of `code`. Nothing happens outside
   * a delivery, for a packet sent to a broadcast address (RFC 1122 §3.2.2),
   * or beyond the ICMP error rate limit.
   */
  unreachable(code: number): void {
    const bytes = this.currentHeaderBytes
    if (bytes === undefined || !this.currentUnicast) return
    const header = bytes.subarray(this.currentHeaderStart, this.currentHeaderStart + this.currentHeaderLength)
    const payload = this.currentPayloadBytes.subarray(this.currentPayloadStart, this.currentPayloadEnd)
    this.sendError(this.currentSource, Icmpv4.Type.DestinationUnreachable, code, header, payload)
  }

  /** Send `destination` an ICMP error about its datagram (`header`, `payload`), within the rate limit. */
  private sendError(destination: Ipv4, type: ErrorType, code: number, header: Uint8Array, payload: Uint8Array): void {
    if (!this.icmpErrorBucket.take(this.now())) {
      this.stats.icmpErrorsLimited++
      return
    }
    const quote = quoteOf(header, payload)
    this.stats.icmpErrors++
    this.send(destination, Ipv4Wire.Protocol.Icmp, Icmpv4.HEADER_LENGTH + quote.length, (buffer, offset) =>
      writeError(buffer, offset, type, code, quote))
  }

  /**
   * Whether the next hop toward `destination` is known; if not, ARP starts
   * asking and `callback` is called when it answers or gives up.
   */
  resolve(destination: Ipv4, callback: ResolutionCallback): Resolution {
    const hop = route(this.iface, destination)
    if (hop._tag === "NoRoute") return hop
    if (hop._tag === "Link") return READY
    const now = this.now()
    if (this.arp.lookup(hop.nextHop, now) !== undefined) return READY
    const query = this.arp.query(hop.nextHop, now)
    if (!query.accepted) return { _tag: "NoRoute", reason: "too many addresses are being resolved at once" }
    this.requested(query.request)
    let waiting = this.waiters.get(hop.nextHop)
    if (waiting === undefined) this.waiters.set(hop.nextHop, waiting = new Set())
    waiting.add(callback)
    this.checkDeadline()
    return { _tag: "Waiting", cancel: () => waiting.delete(callback) }
  }

  /** `IpSender.send`: route, packetize (fragmenting beyond the MTU) and send or queue for ARP. */
  send(destination: Ipv4, protocol: number, length: number, write: PayloadWriter, ecn: number = Ipv4Wire.Ecn.NotEct): boolean {
    const hop = route(this.iface, destination)
    if (hop._tag === "NoRoute" || length > Ipv4Wire.MAX_PACKET_LENGTH - Ipv4Wire.MIN_HEADER_LENGTH) {
      this.stats.sendDropped++
      return false
    }
    const source = this.iface.cidr.address
    const tcp = protocol === Ipv4Wire.Protocol.Tcp
    const identification = this.identification.next(source, destination, protocol, tcp ? this.deviceSegments(length) : 1)
    const limit = tcp ? this.tcpPacketLimit : this.mtu
    // TCP sizes its segments to the path; what fits the link must not be fragmented on the way (RFC 1191).
    const dontFragment = tcp && this.pathMtuDiscovery && Ipv4Wire.MIN_HEADER_LENGTH + length <= limit
    const header = { identification, ttl: this.ttl, protocol, source, destination, payloadLength: length, dontFragment, ecn }
    const segments = tcp && this.segmentationBuffer !== undefined && Ipv4Wire.MIN_HEADER_LENGTH + length > limit
      ? this.segment({ ...header, dontFragment: this.pathMtuDiscovery }, write, this.segmentationBuffer)
      : undefined
    const frames = segments ?? packetize(this.buffers, this.mac, limit, this.deviceChecksums, header, write)
    this.stats.packetsSent++
    if (segments !== undefined) this.stats.segmentsCut += segments.length
    else if (frames.length > 1) this.stats.fragmentsSent += frames.length
    if (hop._tag === "Link") {
      for (const frame of frames) this.push(frame, hop.mac)
      return true
    }
    const now = this.now()
    const mac = this.arp.lookup(hop.nextHop, now)
    if (mac !== undefined) {
      for (const frame of frames) this.push(frame, mac)
      return true
    }
    let accepted = true
    for (const frame of frames) {
      const queued = this.arp.enqueue(hop.nextHop, frame, now)
      this.requested(queued.request)
      accepted &&= queued.accepted
    }
    if (!accepted) this.stats.sendDropped++
    this.checkDeadline()
    return accepted
  }

  /**
   * How many identifications a TCP packet of `length` bytes (its header
   * included) takes: one, unless the device cuts it, numbering its segments
   * on from the packet's identification (as virtio's and the addon's
   * segmentation do); then as many as it can make, so the next packet's do
   * not repeat them (Linux reserves them so, `ip_select_ident_segs`).
   */
  private deviceSegments(length: number): number {
    const packet = Ipv4Wire.MIN_HEADER_LENGTH + length
    const fewestPerSegment = this.mtu - Ipv4Wire.MIN_HEADER_LENGTH - Tcp.MAX_HEADER_LENGTH
    const cut = this.segmentationBuffer === undefined && packet > this.mtu && packet <= this.tcpPacketLimit && fewestPerSegment > 0
    return cut ? Math.ceil((length - Tcp.MIN_HEADER_LENGTH) / fewestPerSegment) : 1
  }

  /** The frames of a TCP packet over the MTU, written whole into `buffer` and cut in software; undefined if it is no segment to cut. */
  private segment(header: Ipv4Wire.Header, write: PayloadWriter, buffer: Uint8Array): ReadonlyArray<Uint8Array> | undefined {
    // The segmenter computes every segment's checksum: the whole packet's is not needed.
    write(buffer, 0, header.source, true)
    let first = true
    const identification = () => {
      if (first) {
        first = false
        return header.identification
      }
      return this.identification.next(header.source, header.destination, header.protocol)
    }
    return segmentTcp(this.buffers, this.mac, this.mtu, header, buffer, identification)
  }

  /** One frame; `checksumVerified`: the device checked its transport checksum. Read in place: no view of its header or payload. */
  private frame(frame: Uint8Array, now: number, checksumVerified: boolean): void {
    if (Ethernet.check(frame) !== undefined) {
      this.stats.malformed++
      return
    }
    const destination = Ethernet.destinationOf(frame)
    const etherType = Ethernet.etherTypeOf(frame)
    if (destination !== this.mac && destination !== MAC_BROADCAST) {
      this.stats.notForUs++
    } else if (etherType === Ethernet.EtherType.Ipv4) {
      this.ipv4(frame, now, checksumVerified)
    } else if (etherType === Ethernet.EtherType.Arp) {
      this.arpInput(frame.subarray(Ethernet.HEADER_LENGTH), now)
    }
  }

  /** The IPv4 packet of an Ethernet `frame`: read in place, parsed into an object only when it is a fragment. */
  private ipv4(frame: Uint8Array, now: number, checksumVerified: boolean): void {
    const at = Ethernet.HEADER_LENGTH
    if (Ipv4Wire.check(frame, true, at) !== undefined) {
      this.stats.malformed++
      return
    }
    const source = Ipv4Wire.sourceOf(frame, at)
    const destination = Ipv4Wire.destinationOf(frame, at)
    if (!accepts(this.iface, destination) || !validSource(this.iface, source)) {
      this.stats.notForUs++
      return
    }
    const headerLength = Ipv4Wire.headerLengthOf(frame, at)
    if (!Ipv4Wire.isFragment(frame, at)) {
      const protocol = Ipv4Wire.protocolOf(frame, at)
      this.deliver(protocol, source, destination, frame, at, headerLength, frame, at + headerLength, at + Ipv4Wire.totalLengthOf(frame, at), now, checksumVerified)
      return
    }
    const packet = Ipv4Wire.parse(frame, false, at) as Ipv4Wire.Packet
    this.deadlinesMoved = true
    const whole = this.reassembly.add(packet, frame.subarray(at, at + headerLength), now)
    if (whole !== undefined) {
      this.deliver(packet.protocol, source, destination, whole.header, 0, whole.header.length, whole.payload, 0, whole.payload.length, now, false)
    }
  }

  /**
   * Hand a packet of `protocol` (its header: `headerLength` bytes at
   * `header[headerStart]`; its data: `bytes[start, end)`, reassembled or
   * not) to its transport.
   */
  private deliver(
    protocol: number,
    source: Ipv4,
    destination: Ipv4,
    header: Uint8Array,
    headerStart: number,
    headerLength: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    now: number,
    checksumVerified: boolean,
  ): void {
    this.stats.delivered++
    this.currentHeaderBytes = header
    this.currentHeaderStart = headerStart
    this.currentHeaderLength = headerLength
    this.currentPayloadBytes = bytes
    this.currentPayloadStart = start
    this.currentPayloadEnd = end
    this.currentSource = source
    this.currentUnicast = destination === this.iface.cidr.address
    try {
      const transport = this.transports[protocol]
      if (protocol === Ipv4Wire.Protocol.Icmp) this.icmp(source, bytes.subarray(start, end), now)
      else if (transport !== undefined) transport.input(source, destination, bytes, start, end, now, checksumVerified, header[headerStart + 1]! & 3)
      else if (protocol === Tcp.PROTOCOL) this.reset(source, destination, bytes.subarray(start, end))
      else {
        this.stats.noProtocol++
        this.unreachable(Icmpv4.UnreachableCode.Protocol)
      }
    } finally {
      this.currentHeaderBytes = undefined
    }
  }

  private icmp(source: Ipv4, payload: Uint8Array, now: number): void {
    const message = Icmpv4.parse(payload)
    if (message._tag === "Rejected") {
      this.stats.malformed++
      return
    }
    if (message._tag === "Icmpv4Echo" && message.type === Icmpv4.Type.EchoRequest) {
      // Echo requests to a broadcast address are not answered (RFC 1122 §3.2.2.6 allows it; Linux does the same).
      if (!this.currentUnicast) return
      this.stats.echoReplies++
      this.send(source, Ipv4Wire.Protocol.Icmp, echoLength(message.payload.length), (buffer, offset) =>
        writeEcho(buffer, offset, Icmpv4.Type.EchoReply, message.identifier, message.sequence, message.payload))
      return
    }
    if (message._tag === "Icmpv4DestinationUnreachable") this.tellTransport(source, message, now)
    for (const observer of this.icmpObservers) observer(source, message, now)
  }

  /**
   * Hand a destination unreachable about a packet we sent (its first
   * fragment, quoted with its transport header) to that packet's transport,
   * with the MTU a "fragmentation needed" announces.
   */
  private tellTransport(reporter: Ipv4, message: Icmpv4.DestinationUnreachable, now: number): void {
    const quoted = Ipv4Wire.parseEmbedded(message.payload)
    if (quoted._tag !== "Ipv4Packet" || quoted.source !== this.iface.cidr.address || quoted.fragmentOffset !== 0) return
    const mtu = message.code === Icmpv4.UnreachableCode.FragmentationNeeded ? announcedMtu(message.nextHopMtu, quoted.totalLength) : 0
    this.transports[quoted.protocol]?.icmpUnreachable?.(quoted.source, quoted.destination, quoted.payload, message.code, reporter, now, mtu)
  }

  private reset(source: Ipv4, destination: Ipv4, payload: Uint8Array): void {
    if (!this.currentUnicast) return
    const segment = Tcp.parse(payload, source, destination)
    if (segment._tag === "Rejected") {
      this.stats.malformed++
      return
    }
    const reset = resetFor(segment)
    if (reset === undefined) return
    this.stats.tcpResets++
    this.send(source, Tcp.PROTOCOL, RESET_LENGTH, writeReset(reset, source))
  }

  private arpInput(bytes: Uint8Array, now: number): void {
    const packet = ArpWire.parse(bytes)
    if (packet._tag === "Rejected") {
      this.stats.malformed++
      return
    }
    const { reply, resolved } = this.arp.input(packet, now)
    if (reply !== undefined) this.sendArp(reply)
    if (resolved !== undefined) this.release(resolved)
  }

  /** Sends what waited for `resolved`, and wakes its waiters. */
  private release(resolved: Resolved<Uint8Array>): void {
    for (const frame of resolved.waiting) this.push(frame, resolved.mac)
    const waiting = this.waiters.get(resolved.address)
    if (waiting === undefined) return
    this.waiters.delete(resolved.address)
    for (const callback of waiting) callback(undefined)
  }

  /** Drops what waited for an address that did not answer, and tells its waiters. */
  private fail(failed: Failed<Uint8Array>): void {
    const waiting = this.waiters.get(failed.address)
    if (waiting === undefined) return
    this.waiters.delete(failed.address)
    const problem = `no ARP reply from ${formatIpv4(failed.address)}`
    for (const callback of waiting) callback(problem)
  }

  private sendArp(header: ArpWire.Header): void {
    const frame = this.buffers.take(Ethernet.HEADER_LENGTH + ArpWire.PACKET_LENGTH)
    Ethernet.emit({ destination: MAC_ZERO, source: this.mac, etherType: Ethernet.EtherType.Arp }, frame, 0)
    ArpWire.emit(header, frame, Ethernet.HEADER_LENGTH)
    this.push(frame, ethernetDestination(header))
  }

  /** A request ARP started (if any) goes out, and the timer may need to wake earlier. */
  private requested(request: ArpWire.Header | undefined): void {
    if (request === undefined) return
    this.sendArp(request)
    this.deadlinesMoved = true
  }

  private push(frame: Uint8Array, destination: Mac): void {
    writeMac(destination, frame, 0)
    // Queue first: `onOutput` may run the writer at once, and it must find the frame.
    this.out.push(frame)
    if (this.out.length === 1) this.onOutput()
  }

  private checkDeadline(): void {
    if (!this.deadlinesMoved) return
    this.deadlinesMoved = false
    const next = this.nextDeadline()
    if (next !== undefined && next < this.armed) {
      this.armed = next
      this.onDeadline()
    }
  }

  private fault(error: unknown): void {
    this.stats.faults++
    if (this.faults.length < MAX_FAULTS) this.faults.push(error instanceof Error ? error.message : String(error))
  }
}
