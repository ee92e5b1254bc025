/**
 * The ARP engine (RFC 826) as a synchronous state machine: no I/O, no clock
 * of its own; every call takes `now` (milliseconds) and returns what to send.
 *
 * - Static entries always win: they never expire and learning never
 *   overwrites them.
 * - Learned entries expire after `entryTimeoutMs`; the cache holds at most
 *   `maxEntries`, evicting the least recently learned (Map insertion order,
 *   refreshed on update).
 * - Learning follows RFC 826's merge rule: a sender already known (or being
 *   resolved) is updated from any packet; a new one is learned only from a
 *   packet addressed to one of our addresses. Requests are answered only for
 *   our addresses.
 * - Resolution: `enqueue` holds items (frames) for an address while requests
 *   are retried every `retryIntervalMs`, `attempts` times; then the waiting
 *   items come back as `failed`. At most `maxWaiting` items per address and
 *   `maxPending` addresses being resolved at once.
 */
import type { Ipv4, Mac } from "../wire/addr.ts"
import { MAC_BROADCAST, MAC_ZERO, isMulticastMac } from "../wire/addr.ts"
import { Operation } from "../wire/arp.ts"
import type { Header, Packet } from "../wire/arp.ts"

/** Bounds and timers of the ARP engine. */
export interface ArpLimits {
  /** Learned entries kept at most (default 1024). */
  readonly maxEntries: number
  /** Lifetime of a learned entry in ms (default 60 s). */
  readonly entryTimeoutMs: number
  /** Time between requests for an unanswered address in ms (default 1 s). */
  readonly retryIntervalMs: number
  /** Requests sent before giving up on an address (default 3). */
  readonly attempts: number
  /** Items waiting per address being resolved (default 16). */
  readonly maxWaiting: number
  /** Addresses being resolved at once (default 256). */
  readonly maxPending: number
}

/** The defaults of `ArpLimits`. */
export const defaultArpLimits: ArpLimits = {
  maxEntries: 1024,
  entryTimeoutMs: 60_000,
  retryIntervalMs: 1_000,
  attempts: 3,
  maxWaiting: 16,
  maxPending: 256,
}

/** What an ARP engine is configured with. */
export interface ArpOptions {
  /** Our MAC. */
  readonly mac: Mac
  /** Our IPv4 addresses; the first is the sender address of our requests. */
  readonly addresses: ReadonlyArray<Ipv4>
  /** Fixed mappings that win over anything learned. */
  readonly staticEntries?: ReadonlyMap<Ipv4, Mac>
  readonly limits?: Partial<ArpLimits>
}

/** An address that was resolved, with the items that waited for it. */
export interface Resolved<T> {
  readonly address: Ipv4
  readonly mac: Mac
  readonly waiting: ReadonlyArray<T>
}

/** An address that did not answer, with the items that waited for it. */
export interface Failed<T> {
  readonly address: Ipv4
  readonly waiting: ReadonlyArray<T>
}

/** The outcome of a received ARP packet. */
export interface InputResult<T> {
  /** Our reply, when the packet was a request for one of our addresses. */
  readonly reply: Header | undefined
  /** A resolution the packet completed. */
  readonly resolved: Resolved<T> | undefined
}

/** The outcome of a timer tick. */
export interface TickResult<T> {
  /** Requests to broadcast again. */
  readonly requests: ReadonlyArray<Header>
  /** Addresses given up on. */
  readonly failed: ReadonlyArray<Failed<T>>
}

/** The outcome of `enqueue`/`query`. */
export interface QueryResult {
  /** False when the item was not kept (the address's queue or the pending table is full). */
  readonly accepted: boolean
  /** The first request for the address, when this call started its resolution. */
  readonly request: Header | undefined
}

/** Counters of an ARP engine. */
export interface ArpStats {
  requestsSent: number
  repliesSent: number
  learned: number
  evicted: number
  timedOut: number
  /** Items refused because a queue was full, or dropped with a failed resolution. */
  dropped: number
}

interface Entry {
  readonly mac: Mac
  readonly expiresAt: number
}

interface Pending<T> {
  sent: number
  nextAt: number
  readonly waiting: Array<T>
}

const NO_INPUT: InputResult<never> = { reply: undefined, resolved: undefined }

/** The Ethernet destination of an ARP packet we send: broadcast for requests, the asker for replies. */
export const ethernetDestination = (header: Header): Mac =>
  header.operation === Operation.Request ? MAC_BROADCAST : header.targetMac

/** An ARP cache and resolver; `T` is what waits for a resolution (frames). */
export class ArpEngine<T> {
  /** Counters since creation. */
  readonly stats: ArpStats = { requestsSent: 0, repliesSent: 0, learned: 0, evicted: 0, timedOut: 0, dropped: 0 }
  private readonly limits: ArpLimits
  private readonly mac: Mac
  private readonly ours: ReadonlySet<Ipv4>
  private readonly sender: Ipv4
  private readonly fixed: ReadonlyMap<Ipv4, Mac>
  private readonly learnedEntries = new Map<Ipv4, Entry>()
  private readonly pending = new Map<Ipv4, Pending<T>>()

  constructor(options: ArpOptions) {
    const first = options.addresses[0]
    if (first === undefined) throw new RangeError("ArpEngine: at least one address is needed")
    this.limits = { ...defaultArpLimits, ...options.limits }
    this.mac = options.mac
    this.ours = new Set(options.addresses)
    this.sender = first
    this.fixed = options.staticEntries ?? new Map()
  }

  /** The MAC of `address`, if known and not expired. */
  lookup(address: Ipv4, now: number): Mac | undefined {
    const fixed = this.fixed.get(address)
    if (fixed !== undefined) return fixed
    const entry = this.learnedEntries.get(address)
    if (entry === undefined) return undefined
    if (entry.expiresAt > now) return entry.mac
    this.learnedEntries.delete(address)
    return undefined
  }

  /** Number of learned entries (expired ones included until looked up or evicted). */
  get size(): number {
    return this.learnedEntries.size
  }

  /** Whether `address` is being resolved. */
  isPending(address: Ipv4): boolean {
    return this.pending.has(address)
  }

  /** Gratuitous ARP announcements (RFC 5227 §2.3) of each of our addresses. */
  announce(): ReadonlyArray<Header> {
    return Array.from(this.ours, (address) => ({
      operation: Operation.Request,
      senderMac: this.mac,
      senderIp: address,
      targetMac: MAC_ZERO,
      targetIp: address,
    }))
  }

  /** Handle a received ARP packet. */
  input(packet: Packet, now: number): InputResult<T> {
    const { operation, senderIp, senderMac } = packet
    if (operation !== Operation.Request && operation !== Operation.Reply) return NO_INPUT
    if (isMulticastMac(senderMac) || senderMac === MAC_ZERO || senderMac === this.mac) return NO_INPUT
    const forUs = this.ours.has(packet.targetIp)
    let resolved: Resolved<T> | undefined
    const learnable = senderIp !== 0 && !this.ours.has(senderIp) && !this.fixed.has(senderIp)
    if (learnable && (forUs || this.learnedEntries.has(senderIp) || this.pending.has(senderIp))) {
      resolved = this.learn(senderIp, senderMac, now)
    }
    let reply: Header | undefined
    if (forUs && operation === Operation.Request) {
      this.stats.repliesSent++
      reply = { operation: Operation.Reply, senderMac: this.mac, senderIp: packet.targetIp, targetMac: senderMac, targetIp: senderIp }
    }
    return reply === undefined && resolved === undefined ? NO_INPUT : { reply, resolved }
  }

  /** Start resolving `address` (if not already) without queuing anything. */
  query(address: Ipv4, now: number): QueryResult {
    if (this.pending.has(address)) return { accepted: true, request: undefined }
    if (this.pending.size >= this.limits.maxPending) return { accepted: false, request: undefined }
    this.pending.set(address, { sent: 1, nextAt: now + this.limits.retryIntervalMs, waiting: [] })
    return { accepted: true, request: this.request(address) }
  }

  /** Hold `item` until `address` is resolved (or given up on), starting its resolution if needed. */
  enqueue(address: Ipv4, item: T, now: number): QueryResult {
    const result = this.query(address, now)
    const pending = this.pending.get(address)
    if (pending === undefined || pending.waiting.length >= this.limits.maxWaiting) {
      this.stats.dropped++
      return { accepted: false, request: result.request }
    }
    pending.waiting.push(item)
    return result
  }

  /** Retry or give up on the resolutions that are due. */
  tick(now: number): TickResult<T> {
    const requests: Array<Header> = []
    const failed: Array<Failed<T>> = []
    for (const [address, pending] of this.pending) {
      if (pending.nextAt > now) continue
      if (pending.sent >= this.limits.attempts) {
        this.pending.delete(address)
        this.stats.timedOut++
        this.stats.dropped += pending.waiting.length
        failed.push({ address, waiting: pending.waiting })
      } else {
        pending.sent++
        pending.nextAt = now + this.limits.retryIntervalMs
        requests.push(this.request(address))
      }
    }
    return { requests, failed }
  }

  /** When `tick` has work next, or undefined when nothing is being resolved. */
  nextDeadline(): number | undefined {
    let next: number | undefined
    for (const pending of this.pending.values()) if (next === undefined || pending.nextAt < next) next = pending.nextAt
    return next
  }

  private request(address: Ipv4): Header {
    this.stats.requestsSent++
    return { operation: Operation.Request, senderMac: this.mac, senderIp: this.sender, targetMac: MAC_ZERO, targetIp: address }
  }

  private learn(address: Ipv4, mac: Mac, now: number): Resolved<T> | undefined {
    if (this.learnedEntries.delete(address) === false && this.learnedEntries.size >= this.limits.maxEntries) {
      const oldest = this.learnedEntries.keys().next()
      if (oldest.done !== true) {
        this.learnedEntries.delete(oldest.value)
        this.stats.evicted++
      }
    }
    this.learnedEntries.set(address, { mac, expiresAt: now + this.limits.entryTimeoutMs })
    this.stats.learned++
    const pending = this.pending.get(address)
    if (pending === undefined) return undefined
    this.pending.delete(address)
    return { address, mac, waiting: pending.waiting }
  }
}
