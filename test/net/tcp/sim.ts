/**
 * A deterministic simulation for the TCP engine: two engines joined by an
 * in-memory "IP wire" that loses, duplicates, delays and reorders packets
 * with a seeded PRNG, driven by a virtual clock that jumps straight to the
 * next event (a packet arrival or an engine deadline), so minutes of
 * simulated time take milliseconds.
 */
import { PathMtus } from "../../../src/net/engine/pathMtu.ts"
import type { IpSender } from "../../../src/net/direct/Transport.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { Ecn } from "../../../src/net/wire/ipv4.ts"
import type { TcpConfig } from "../../../src/net/tcp/config.ts"
import { TcpEngine } from "../../../src/net/tcp/engine.ts"
import type { Segment } from "../../../src/net/wire/tcp.ts"
import { parse } from "../../../src/net/wire/tcp.ts"

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** How the wire mistreats packets (each direction alike). */
export interface WireProfile {
  /** Probability a packet is lost. */
  readonly loss: number
  /** Probability a packet is delivered twice. */
  readonly duplicate: number
  /** Probability a packet is held back by up to `reorderMs` more. */
  readonly reorder: number
  readonly reorderMs: number
  /** One-way delay. */
  readonly delayMs: number
}

/** A perfect wire with 5 ms of delay. */
export const clean: WireProfile = { loss: 0, duplicate: 0, reorder: 0, reorderMs: 0, delayMs: 5 }

/** One side of the simulation. */
export interface Host {
  readonly address: number
  readonly engine: TcpEngine
  /** Packets this host sent, parsed (kept only while `sim.record` is true). */
  readonly sent: Array<Segment>
  /** The IPv4 ECN codepoint each of `sent` went out with. */
  readonly sentEcn: Array<number>
  /** How many times the engine pushed (`IpSender.push`: write what it sent before the rest of the batch). */
  pushes: number
}

interface Event {
  readonly at: number
  readonly order: number
  readonly to: Host
  readonly from: number
  readonly bytes: Uint8Array
  /** The packet's IPv4 ECN codepoint. */
  readonly ecn: number
}

/** Two engines, a lossy wire and a virtual clock. */
export class Sim {
  now = 0
  /** Record every segment sent, parsed, in `Host.sent`. */
  record = false
  /** Return false to drop a packet before the wire sees it (targeted losses). */
  filter: (from: Host, segment: Segment) => boolean = () => true
  /** Called with each packet as it reaches its host (after the wire's losses, duplicates and delays), when set. */
  arrived: ((to: Host, segment: Segment) => void) | undefined = undefined
  /** Return true to mark an ECN-capable packet Congestion Experienced, as a congested router would (RFC 3168 §5). */
  congested: (from: Host, segment: Segment) => boolean = () => false
  readonly a: Host
  readonly b: Host
  private readonly queue: Array<Event> = []
  private order = 0
  private readonly rand: () => number
  private readonly profile: WireProfile

  /** The largest segment either IP layer hands the wire whole (as a link with segmentation offload would). */
  private readonly maxOffloadSegment: number

  /** `maxOffloadSegment` above 1480 plays a link with TCP segmentation offload that delivers the big segments whole. */
  constructor(
    seed: number,
    profile: WireProfile,
    configA: Partial<TcpConfig> = {},
    configB: Partial<TcpConfig> = configA,
    maxOffloadSegment = 1480,
  ) {
    this.maxOffloadSegment = maxOffloadSegment
    this.rand = prng(seed)
    this.profile = profile
    const random32 = () => Math.floor(this.rand() * 4294967296) >>> 0
    const make = (address: number, peer: () => Host, config: Partial<TcpConfig>): Host => {
      const sent: Array<Segment> = []
      const sentEcn: Array<number> = []
      const paths = new PathMtus(1500)
      const ip: IpSender = {
        sourceFor: (destination) => (destination === peer().address ? address : undefined),
        maxSegment: 1480,
        maxOffloadSegment: this.maxOffloadSegment,
        pathMtu: (destination) => paths.get(destination, this.now),
        reducePathMtu: (destination, mtu) => paths.reduce(destination, mtu, this.now),
        send: (destination, _protocol, length, write, ecn = 0) => {
          if (destination !== peer().address) return false
          const bytes = new Uint8Array(length)
          write(bytes, 0, address, false)
          const self = address === this.a.address ? this.a : this.b
          const seg = parse(bytes, address, destination)
          if (seg._tag === "Rejected") throw new Error(`engine emitted a bad segment: ${seg.reason}`)
          if (this.record) {
            sent.push(seg)
            sentEcn.push(ecn)
          }
          const marked = ecn !== Ecn.NotEct && this.congested(self, seg) ? Ecn.Ce : ecn
          if (this.filter(self, seg)) this.transmit(address, peer(), bytes, marked)
          return true
        },
        push: () => {
          host.pushes++
        },
      }
      const host: Host = { address, engine: new TcpEngine(ip, { config, random: random32 }), sent, sentEcn, pushes: 0 }
      return host
    }
    this.a = make(ipv4(10, 0, 0, 1), () => this.b, configA)
    this.b = make(ipv4(10, 0, 0, 2), () => this.a, configB)
  }

  /** Put a packet on the wire toward `to`, subject to the profile. */
  private transmit(from: number, to: Host, bytes: Uint8Array, ecn: number): void {
    const p = this.profile
    if (this.rand() < p.loss) return
    const copies = this.rand() < p.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const extra = this.rand() < p.reorder ? this.rand() * p.reorderMs : 0
      this.schedule({ at: this.now + p.delayMs + extra, order: this.order++, to, from, bytes, ecn })
    }
  }

  /** Deliver a packet's `bytes` from `from` to `to` at virtual time `at`, as the wire would (a packet held back on its way). */
  deliverAt(to: Host, from: number, bytes: Uint8Array, at: number): void {
    this.schedule({ at, order: this.order++, to, from, bytes, ecn: 0 })
  }

  /** Deliver raw bytes (a crafted segment) to `to` as from `from`, now. */
  inject(to: Host, from: number, bytes: Uint8Array): void {
    to.engine.input(from, to.address, bytes, 0, bytes.length, this.now, false, 0)
  }

  private schedule(event: Event): void {
    const q = this.queue
    q.push(event)
    let i = q.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!earlier(q[i]!, q[parent]!)) break
      ;[q[i], q[parent]] = [q[parent]!, q[i]!]
      i = parent
    }
  }

  private pop(): Event | undefined {
    const q = this.queue
    const top = q[0]
    const last = q.pop()
    if (top === undefined || last === undefined || q.length === 0) return top
    q[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < q.length && earlier(q[l]!, q[m]!)) m = l
      if (r < q.length && earlier(q[r]!, q[m]!)) m = r
      if (m === i) break
      ;[q[i], q[m]] = [q[m]!, q[i]!]
      i = m
    }
    return top
  }

  /**
   * Run events until `done()` holds, calling `step()` after each (the
   * applications' turn), or until nothing is left to do or `limitMs` of
   * virtual time passed. Returns whether `done()` held.
   */
  run(done: () => boolean, step: () => void = () => {}, limitMs = 3_600_000): boolean {
    const end = this.now + limitMs
    step()
    while (!done()) {
      const packet = this.queue[0]?.at
      const timer = minimum(this.a.engine.nextDeadline(), this.b.engine.nextDeadline())
      const next = minimum(packet, timer)
      if (next === undefined || next > end) return false
      this.now = Math.max(this.now, next)
      if (packet !== undefined && packet <= this.now) {
        const event = this.pop()!
        if (this.arrived !== undefined) this.arrived(event.to, parse(event.bytes, event.from, event.to.address) as Segment)
        event.to.engine.input(event.from, event.to.address, event.bytes, 0, event.bytes.length, this.now, false, event.ecn)
      } else {
        this.a.engine.onTimers(this.now)
        this.b.engine.onTimers(this.now)
      }
      step()
    }
    return true
  }

  /** Advance the virtual clock by `ms`, processing everything due meanwhile. */
  advance(ms: number, step: () => void = () => {}): void {
    const end = this.now + ms
    this.run(() => false, step, ms)
    this.now = Math.max(this.now, end)
  }
}

const earlier = (x: Event, y: Event): boolean => x.at < y.at || (x.at === y.at && x.order < y.order)

const minimum = (x: number | undefined, y: number | undefined): number | undefined =>
  x === undefined ? y : y === undefined || x <= y ? x : y
