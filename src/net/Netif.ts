/**
 * The `Netif` device: raw Ethernet frames in and out (MirageOS `Mirage_net.S`).
 *
 * Frames travel in batches — one element of `frames` is everything one
 * wake-up of the backend produced — so the per-frame path stays plain
 * synchronous code over `Uint8Array` views and Effect runs once per batch.
 */
import { Context, Data, Effect, Random } from "effect"
import type { Scope, Stream } from "effect"
import * as Addr from "./wire/addr.ts"

/** Counters of a network interface since it was opened. */
export interface NetifStats {
  readonly rxFrames: number
  readonly rxBytes: number
  readonly txFrames: number
  readonly txBytes: number
  readonly rxErrors: number
  readonly txErrors: number
  readonly rxDrops: number
  readonly txDrops: number
}

/** The optional build step for the TAP addon did not produce a loadable `build/tap.node`. */
export class NetifAddonUnavailable extends Data.TaggedError("NetifAddonUnavailable")<{
  readonly reason: string
  readonly fix: string
}> {
  /** Names the problem and the fix. */
  override get message(): string {
    return `the TAP addon cannot be loaded: ${this.reason}; fix: ${this.fix}`
  }
}

/** The device could not be opened (permissions, missing `/dev/net/tun`, name busy...). */
export class NetifDeviceOpenFailed extends Data.TaggedError("NetifDeviceOpenFailed")<{
  readonly device: string
  readonly reason: string
  readonly fix: string
}> {
  /** Names the problem and the fix. */
  override get message(): string {
    return `cannot open network device ${this.device}: ${this.reason}; fix: ${this.fix}`
  }
}

/** The device went away underneath us (interface deleted, fd error). */
export class NetifDisconnected extends Data.TaggedError("NetifDisconnected")<{
  readonly device: string
  readonly reason: string
}> {
  /** Names the problem and the fix. */
  override get message(): string {
    return `network device ${this.device} disconnected: ${this.reason}; fix: recreate the interface and restart the unikernel`
  }
}

/** Some frames of a batch were rejected (too big, too short, refused by the kernel). */
export class NetifWriteFailed extends Data.TaggedError("NetifWriteFailed")<{
  readonly device: string
  readonly failed: number
  readonly reason: string
}> {
  /** Names the problem and the fix. */
  override get message(): string {
    return `network device ${this.device}: ${this.failed} frame(s) not sent: ${this.reason}; ` +
      `fix: send Ethernet frames of 14..14+MTU bytes on an interface that is up`
  }
}

/** A capture file (pcap tee) could not be written. */
export class NetifCaptureFailed extends Data.TaggedError("NetifCaptureFailed")<{
  readonly path: string
  readonly reason: string
}> {
  /** Names the problem and the fix. */
  override get message(): string {
    return `cannot write capture file ${this.path}: ${this.reason}; fix: choose a writable path with free space`
  }
}

/** Every way a `Netif` can fail. */
export type NetifError =
  | NetifAddonUnavailable
  | NetifDeviceOpenFailed
  | NetifDisconnected
  | NetifWriteFailed
  | NetifCaptureFailed

/**
 * One batch of received frames. A device that checks transport checksums
 * itself (a NIC's receive checksum offload) sets `checksumVerified[i]` to 1
 * for each frame whose TCP or UDP checksum it knows to be right, and the
 * stack does not sum that frame again; absent, every frame is checked.
 */
export type FrameBatch = ReadonlyArray<Uint8Array> & { readonly checksumVerified?: Uint8Array }

/** A raw Ethernet interface. */
export class Netif extends Context.Service<Netif, {
  /** The interface's own MAC address (6 bytes). */
  readonly mac: Uint8Array
  /** Largest payload after the 14-byte Ethernet header. */
  readonly mtu: number
  /**
   * TCP segmentation offload: the largest IPv4 packet carrying TCP that the
   * device takes in one frame and cuts into MTU-sized segments itself (each
   * with the frame's IP and TCP headers and options, as a NIC's TSO does).
   * Such a device may also deliver TCP segments bigger than the MTU (merged
   * by the other side). Absent: every frame fits the MTU, both ways.
   */
  readonly tcpSegmentation?: number
  /**
   * Transmit checksum offload: the device computes the TCP and UDP checksums
   * of the unfragmented IPv4 frames it sends, whatever their checksum fields
   * hold (as a NIC's checksum offload does), so the stack leaves them to it.
   * Absent: frames go out as they are.
   */
  readonly checksumOffload?: boolean
  /**
   * Received frames, one array per backend wake-up. Each frame is a view
   * that stays valid after the batch (never reused); treat it as read-only.
   * Meant for one consumer (the Ethernet layer).
   */
  readonly frames: Stream.Stream<FrameBatch, NetifError>
  /**
   * Hands back a batch of `frames` whose frames the consumer no longer reads
   * (nor keeps views of): the backend may reuse their memory for later
   * batches. Optional, for backends that recycle; a batch never handed back
   * stays valid.
   */
  readonly release?: (batch: FrameBatch) => void
  /**
   * For the one consumer of `frames` that handles a batch at once and hands
   * every batch back with `release`: until the scope closes, a batch read
   * when every earlier one was handed back goes to `take`, called in the
   * backend's own callback (sparing a hop to a fiber per batch), instead of
   * to `frames`; the others still go to `frames`, so batches stay in order
   * for a consumer that handles each before the next. Optional. A wrapper
   * that changes what `frames` gives must change `takeNow` alike, or leave
   * it out.
   */
  readonly takeNow?: (take: (batch: FrameBatch) => void) => Effect.Effect<void, never, Scope.Scope>
  /** Sends frames in order; returns when the backend has taken them (buffers may then be reused). */
  readonly writeBatch: (frames: ReadonlyArray<Uint8Array>) => Effect.Effect<void, NetifError>
  /**
   * `writeBatch` for a backend whose writes are synchronous (a TAP's system
   * calls): writes at once and returns undefined when the backend took every
   * frame, else an effect that does the rest as `writeBatch` would (waits
   * for room, fails). Optional: it spares the stack an effect per write. A
   * wrapper that changes what `writeBatch` writes must change `writeNow`
   * alike, or leave it out.
   */
  readonly writeNow?: (frames: ReadonlyArray<Uint8Array>) => Effect.Effect<void, NetifError> | undefined
  /** Sends one frame. */
  readonly write: (frame: Uint8Array) => Effect.Effect<void, NetifError>
  /** A snapshot of the counters. */
  readonly stats: Effect.Effect<NetifStats>
}>()("effect-uk/Netif") {}

/** Size of an Ethernet header (destination, source, EtherType). */
export const ETHERNET_HEADER = 14

/** Mutable counters owned by a backend; `snapshot` copies them for `Netif.stats`. */
export interface StatsCounter {
  rxFrames: number
  rxBytes: number
  txFrames: number
  txBytes: number
  rxErrors: number
  txErrors: number
  rxDrops: number
  txDrops: number
}

/** Fresh zeroed counters. */
export const makeStatsCounter = (): StatsCounter => ({
  rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDrops: 0, txDrops: 0,
})

/** Counts a received batch. */
export const countRx = (stats: StatsCounter, frames: ReadonlyArray<Uint8Array>): void => {
  stats.rxFrames += frames.length
  for (const frame of frames) stats.rxBytes += frame.length
}

/** An immutable copy of the counters. */
export const snapshot = (stats: StatsCounter): NetifStats => ({ ...stats })

/**
 * Why a frame cannot be sent on an interface of this MTU, or `undefined`
 * when it is a well-formed Ethernet frame size.
 */
export const frameSizeProblem = (frame: Uint8Array, mtu: number): string | undefined =>
  frame.length < ETHERNET_HEADER
    ? `frame of ${frame.length} bytes is shorter than an Ethernet header`
    : frame.length > ETHERNET_HEADER + mtu
    ? `frame of ${frame.length} bytes exceeds MTU ${mtu} + ${ETHERNET_HEADER}`
    : undefined

/** `02:00:5e:10:00:01` style text of a 6-byte MAC. */
export const formatMac = (mac: Uint8Array): string => Addr.formatMac(Addr.readMac(mac, 0))

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes; `undefined` when malformed. */
export const parseMac = (text: string): Uint8Array | undefined => {
  const mac = Addr.parseMac(text)
  return typeof mac === "number" ? Addr.macToBytes(mac) : undefined
}

/**
 * A random unicast, locally administered MAC (first byte `x2`, `x6`, `xA`, `xE`),
 * drawn from Effect's `Random` so tests can seed it.
 */
export const randomMac: Effect.Effect<Uint8Array> = Effect.gen(function* () {
  const mac = new Uint8Array(6)
  for (let i = 0; i < 6; i++) mac[i] = yield* Random.nextIntBetween(0, 255)
  mac[0] = (mac[0]! & 0xfc) | 0x02
  return mac
})
