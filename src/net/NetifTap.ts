/**
 * `Netif` backends over the native addon `build/tap.node` (see `native/tap.c`):
 * a Linux TAP device (`layerTap`) or an AF_PACKET raw socket bound to an
 * existing interface (`layerPacket`).
 *
 * The addon calls back once per wake-up with up to 64 frames in one buffer;
 * the batch becomes one element of `frames` through a bounded queue, and the
 * addon is paused while that queue is full (backpressure reaches the kernel);
 * or, when every earlier batch was handed back, it goes at once to the
 * `takeNow` taker if there is one.
 * The addon reads into WebAssembly memory of ours (where the stack sums
 * checksums with SIMD): a batch for the taker is handed over where it lies,
 * and one for the queue is copied into recycled memory first (handed back
 * with `Netif.release`). With `offload`, TCP frames of up to a
 * whole IPv4 packet cross and the kernel segments them, the kernel
 * completes the TCP and UDP checksums of the frames we send, and received
 * frames whose checksum the addon completed or the kernel checked are
 * marked `checksumVerified`. With `offload: "software"` the addon does the
 * sending half of that itself, and the device sees ordinary frames.
 */
import { Cause, Effect, Layer, Queue, Stream } from "effect"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { constants as osConstants } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  ETHERNET_HEADER,
  Netif,
  NetifAddonUnavailable,
  NetifDeviceOpenFailed,
  NetifDisconnected,
  NetifWriteFailed,
  countRx,
  frameSizeProblem,
  makeStatsCounter,
  randomMac,
  snapshot,
} from "./Netif.ts"
import type { FrameBatch, NetifError } from "./Netif.ts"
import { FramePool } from "./FramePool.ts"
import { simdSlab } from "./wire/simd.ts"

/** An opaque native device handle. */
type Handle = { readonly __tapHandle: unique symbol }

/** What `openTap` / `openPacket` return. */
interface OpenedDevice {
  readonly handle: Handle
  readonly name: string
  readonly mtu: number
  readonly mac: Uint8Array
  /** TCP segmentation and checksum offload, the kernel's or the addon's: TCP frames up to a whole packet may be written, unsummed. */
  readonly offload: boolean
  /** Frames are read and written in batches through an io_uring, a system call per batch (see `NetifTapOptions.ioUring`). */
  readonly ring: boolean
  /** Frames are received through one multishot read of a second ring (a TAP without the kernel's offload, Linux 6.7): a system call per wake-up reads all that wait. */
  readonly multishot: boolean
  /** The kernel handles the frames we write on a NAPI thread of its own (see `NetifTapOptions.threadedNapi`); false on a packet socket. */
  readonly threaded: boolean
}

/** Who segments our TCP frames and completes their checksums: the kernel (true), the addon ("software") or the stack (false). */
export type TapOffload = boolean | "software"

/** The JavaScript face of `build/tap.node`. */
export interface TapAddon {
  readonly openTap: (name: string, offload?: TapOffload, mtu?: number, ring?: boolean, threaded?: boolean) => OpenedDevice
  readonly openPacket: (name: string, offload?: TapOffload, mtu?: number, ring?: boolean) => OpenedDevice
  /**
   * Reads from now on: `onFrames` gets the receive buffer, each frame's
   * length, and 0 or a hard errno; the frames lie one after the other from
   * the buffer's start and, like the lengths, are overwritten by the next wake-up's. `buffer`:
   * what to read into (at least `receiveBufferBytes`); default: the addon's own.
   */
  readonly start: (handle: Handle, onFrames: (data: ArrayBuffer, lengths: Uint32Array, errno: number) => void, buffer?: ArrayBuffer) => void
  /** Reads from the next wake-up on go into `buffer` (at least `receiveBufferBytes`); the addon no longer writes the one before. */
  readonly setBuffer: (handle: Handle, buffer: ArrayBuffer) => void
  /** The smallest receive buffer `start` and `setBuffer` take. */
  readonly receiveBufferBytes: number
  /** After a wake-up that read frames, keep checking for more for `micros` (0 to 1000; 0 is off) before sleeping. */
  readonly busyPoll: (handle: Handle, micros: number) => void
  readonly pause: (handle: Handle) => void
  readonly resume: (handle: Handle) => void
  readonly write: (handle: Handle, frames: ReadonlyArray<Uint8Array>, start: number) => { done: number; errno: number }
  readonly waitWritable: (handle: Handle, onWritable: () => void) => void
  readonly close: (handle: Handle) => void
  readonly maxBatch: number
  /** Flag in a frame's entry of `lengths`: its TCP/UDP checksum is known good (offload; the bit is not part of the length). */
  readonly checksumVerified: number
  /** The errno values the addon may report, by name (Linux numbering). */
  readonly errno: Readonly<Record<AddonErrno, number>>
}

/** errno names the addon exports. */
type AddonErrno =
  | "EAGAIN" | "EBADF" | "EBADFD" | "ENODEV" | "ENXIO" | "EPIPE" | "ENOBUFS" | "ENETDOWN"
  | "EPERM" | "EACCES" | "ENOENT" | "EBUSY" | "EINVAL"

/** Options shared by the TAP and AF_PACKET layers. */
export interface NetifTapOptions {
  /** Interface name (at most 15 bytes); a TAP is created when missing. */
  readonly name: string
  /** Our MAC; default: random locally administered (TAP) or the interface's (AF_PACKET). */
  readonly mac?: Uint8Array
  /** Our MTU; default: the interface's MTU at open time. */
  readonly mtu?: number
  /**
   * Exchange frames with virtio-net headers (IFF_VNET_HDR on a TAP,
   * PACKET_VNET_HDR on a packet socket) so the kernel segments our TCP
   * frames of up to 64 KiB into MTU-sized segments, completes the TCP and
   * UDP checksums of what we send, and hands us TCP segments merged
   * (checksums completed by the addon), as a virtual NIC with TSO and
   * checksum offload does: far fewer frames cross, and the stack sums none
   * of them. On a packet socket the segmenting and summing is the NIC's when
   * it can, the kernel's otherwise, and the interface's GRO is left as it is.
   * Sets `Netif.tcpSegmentation` and `Netif.checksumOffload`. Default true.
   *
   * "software": the same offloads done by the addon, in C, for a device or
   * peer without them (as Linux's GSO and software checksums serve a driver
   * without offloads): the stack hands over the same frames, and the addon
   * completes their TCP and UDP checksums and cuts TCP frames bigger than
   * the MTU into MTU-sized segments, each written as a frame of its own.
   * The device sees one ordinary frame per segment, as with false; the
   * stack's work per segment is gone. Sets the same two fields.
   *
   * false for frame for frame with the stack doing all of it (one MTU-sized
   * frame per segment, each summed by the stack, like a NIC without
   * offloads; IPv4's `softwareSegmentation` decides whether TCP's bursts are
   * cut by the stack or sent a segment at a time). A packet socket turns
   * the interface's GRO off unless the offload is the kernel's.
   */
  readonly offload?: TapOffload
  /** Received batches buffered before the device is paused (default 256). */
  readonly rxQueueBatches?: number
  /**
   * Read and write frames in batches through an io_uring: a system call per
   * batch instead of one per frame, each still one frame for the device
   * (on a virtual machine a system call can cost more than the kernel's
   * handling of the frame). Default true; where the kernel has no io_uring
   * or refuses it (seccomp, `kernel.io_uring_disabled`), frames go one
   * system call each, as with false; so do they from the moment a ring in
   * use fails, without losing a frame.
   */
  readonly ioUring?: boolean
  /**
   * TAP only: open the device with IFF_NAPI and move its NAPI poll to a
   * kernel thread of its own (`/sys/class/net/<name>/threaded`), so a
   * frame we write is only queued by the system call, and the kernel's
   * receive path for it (GRO, which merges consecutive TCP segments, then
   * IP, TCP and waking the reader) runs on that thread, on another CPU,
   * rather than on ours. With one frame per segment this is most of the
   * kernel's work per frame (bench/tcp with lwIP's MSS and window, two
   * runs: a send 1.4–1.7× as fast, a receive 1.3×; but 0.7–0.75× as many
   * short request/response connections a second, each write a hop to the
   * other CPU). Default: true unless the offload is the kernel's (few big
   * frames, where the hand-off measured slower). Where the thread cannot be
   * turned on (no permission, sysfs of another namespace, kernels before
   * 5.12), the TAP opens as with false.
   */
  readonly threadedNapi?: boolean
  /**
   * Busy polling, as Linux's SO_BUSY_POLL: after a wake-up that read
   * frames, keep checking the device for this many microseconds (0 to
   * 1000) and take what comes, before letting the event loop sleep. Frames
   * that follow within that time skip a sleep and a wake-up (on a virtual
   * machine, the hypervisor waking a halted CPU), at the price of the CPU
   * time spent checking, taken from the other work of the machine. With
   * lwIP's MSS and window, 50 µs received 1.10× as fast in 12 paired
   * trials (geometric mean, a fresh process each; 0.80–1.39): faster while
   * a CPU was spare, slower where the CPUs were contended; bench/tcp shows
   * it beside the same row without. The event loop still gets its turn at
   * least every millisecond. Default 0: off.
   */
  readonly busyPollMicros?: number
  /** Path of `tap.node`; default: `build/tap.node` in the package root. */
  readonly addonPath?: string
}

/** The longest busy polling `NetifTapOptions.busyPollMicros` allows (the addon's limit too). */
const MAX_BUSY_POLL_MICROS = 1000

/** The largest IPv4 packet: a segmented TCP frame's limit with either offload. */
const MAX_IPV4_PACKET = 65535

const ADDON_FIX = "run `npm run build:addon` (needs a C compiler: `apt-get install -y gcc`)"

/** Names errno values (Node's table lacks some Linux ones, e.g. EBADFD; the addon supplies them). */
const errnoNamer = (addon: TapAddon) => {
  const names = new Map<number, string>()
  for (const [name, code] of [...Object.entries(osConstants.errno), ...Object.entries(addon.errno)]) names.set(code, name)
  return (errno: number): string => names.get(errno) ?? `errno ${errno}`
}

/** errnos after which the device is gone for good. */
const fatalErrnos = (addon: TapAddon): ReadonlySet<number> =>
  new Set([addon.errno.EBADF, addon.errno.EBADFD, addon.errno.ENODEV, addon.errno.ENXIO, addon.errno.EPIPE])

/** Finds `build/tap.node` in the nearest ancestor directory of this module that has one. */
const defaultAddonPath = (): string | undefined => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "build", "tap.node")
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/** Loads the addon on first use; a typed error says why it is unavailable. */
export const loadTapAddon = (addonPath?: string): Effect.Effect<TapAddon, NetifAddonUnavailable> =>
  Effect.try({
    try: () => {
      const path = addonPath ?? defaultAddonPath()
      if (path === undefined) throw new Error("build/tap.node was not built")
      return createRequire(import.meta.url)(path) as TapAddon
    },
    catch: (e) => new NetifAddonUnavailable({ reason: e instanceof Error ? e.message : String(e), fix: ADDON_FIX }),
  })

/** Turns an `open*` failure (an Error with `errno`) into a `NetifDeviceOpenFailed` with a fix. */
const openFailure = (
  device: string,
  kind: "tap" | "packet",
  describe: (errno: number) => string,
  cause: unknown,
): NetifDeviceOpenFailed => {
  const err = cause as { errno?: number; message?: string }
  const name = err.errno === undefined ? "" : describe(err.errno)
  const reason = err.message ?? String(cause)
  const privilege = kind === "tap"
    ? "run as root or grant CAP_NET_ADMIN (`setcap cap_net_admin+ep <node binary>`)"
    : "run as root or grant CAP_NET_RAW (`setcap cap_net_raw+ep <node binary>`)"
  const fix = name === "EPERM" || name === "EACCES"
    ? privilege
    : name === "ENOENT" && kind === "tap"
    ? "load the TUN/TAP driver: `modprobe tun` (and `mkdir -p /dev/net && mknod /dev/net/tun c 10 200` if the node is missing)"
    : name === "ENODEV" && kind === "tap"
    ? "load the TUN/TAP driver: `modprobe tun`"
    : name === "EBUSY"
    ? `another process holds ${device}: pick another name or stop it (\`ip link del ${device}\`)`
    : name === "EINVAL" && kind === "tap"
    ? `${device} exists but is not a TAP device (tun or different flags): delete it (\`ip link del ${device}\`) or pick another name`
    : name === "ENODEV" || name === "ENXIO"
    ? `there is no interface ${device}: check \`ip link\``
    : "check the interface name and the privileges (root or CAP_NET_ADMIN / CAP_NET_RAW)"
  return new NetifDeviceOpenFailed({ device, reason, fix })
}

/** Builds the `Netif` over one opened addon device; closed when the scope closes. */
const makeDeviceNetif = (kind: "tap" | "packet", options: NetifTapOptions) =>
  Effect.gen(function* () {
    const addon = yield* loadTapAddon(options.addonPath)
    const describe = errnoNamer(addon)
    const fatal = fatalErrnos(addon)
    const { EAGAIN, ENOBUFS } = addon.errno
    const offload = options.offload ?? true
    if (typeof offload !== "boolean" && offload !== "software") {
      return yield* new NetifDeviceOpenFailed({
        device: options.name,
        reason: `offload is ${JSON.stringify(offload)}`,
        fix: "set offload to true (the kernel's), \"software\" (the addon's) or false (none)",
      })
    }
    const busyPoll = options.busyPollMicros ?? 0
    if (!(Number.isFinite(busyPoll) && busyPoll >= 0 && busyPoll <= MAX_BUSY_POLL_MICROS)) {
      return yield* new NetifDeviceOpenFailed({
        device: options.name,
        reason: `busyPollMicros is ${busyPoll}`,
        fix: `set busyPollMicros to 0 (off) up to ${MAX_BUSY_POLL_MICROS} microseconds`,
      })
    }
    const device = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          kind === "tap"
            ? addon.openTap(options.name, offload, options.mtu ?? 0, options.ioUring ?? true, options.threadedNapi ?? offload !== true)
            : addon.openPacket(options.name, offload, options.mtu ?? 0, options.ioUring ?? true),
        catch: (cause) => openFailure(options.name, kind, describe, cause),
      }),
      (device) => Effect.sync(() => addon.close(device.handle)),
    )
    if (busyPoll > 0) addon.busyPoll(device.handle, busyPoll)
    const mac = options.mac ?? (kind === "tap" ? yield* randomMac : device.mac)
    const mtu = options.mtu ?? device.mtu
    /** What is wrong with sending `frame`: with offload, IPv4 TCP frames up to a whole packet go out (the kernel or the addon segments them). */
    const sizeProblem = (frame: Uint8Array): string | undefined =>
      frameSizeProblem(frame, device.offload && frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === 6 ? MAX_IPV4_PACKET : mtu)
    const stats = makeStatsCounter()
    const capacity = options.rxQueueBatches ?? 256
    const rx = yield* Queue.bounded<FrameBatch, NetifError | Cause.Done>(capacity)
    let paused = false
    /** Set once the device is gone; later writes fail with it. */
    let gone: NetifDisconnected | undefined
    /** Writers waiting for the fd to become writable (one addon wait serves them all). */
    const writableWaiters = new Set<() => void>()
    const markGone = (reason: string): NetifDisconnected => {
      gone ??= new NetifDisconnected({ device: device.name, reason })
      for (const wake of writableWaiters) wake()
      writableWaiters.clear()
      return gone
    }
    const disconnect = (errno: number): NetifDisconnected => {
      if (gone !== undefined) return gone
      const error = markGone(describe(errno))
      addon.close(device.handle)
      Queue.failCauseUnsafe(rx, Cause.fail(error))
      return error
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        markGone("the interface was closed (its layer was released)")
        Queue.endUnsafe(rx)
      })
    )

    /**
     * The memory the addon reads into (WebAssembly memory, which the stack
     * sums checksums in with SIMD). A batch for the taker is read where it
     * lies, without a copy; if the taker still holds it when its call
     * returns, the batch keeps that memory and the addon goes on in a spare.
     */
    let receiving = simdSlab(addon.receiveBufferBytes)
    /** Receive memory that batches still hold. */
    const keptReceiving = new Set<Uint8Array>()
    /** Receive memory a batch kept, back from it and ready to be read into again (one kept at most). */
    let spareReceiving: Uint8Array | undefined
    /** The batch read into `receiving` is kept past the taker's call: it keeps that memory, and the addon reads into a spare. */
    const keepReceiving = () => {
      keptReceiving.add(receiving)
      receiving = spareReceiving ?? simdSlab(addon.receiveBufferBytes)
      spareReceiving = undefined
      if (gone === undefined) addon.setBuffer(device.handle, receiving.buffer as ArrayBuffer)
    }
    /** Batches not for the taker are copied out of the receive memory into memory from this pool, handed back by `release`. */
    const pool = new FramePool()
    /** The memory of each batch not yet released: the receive memory or a pool buffer. */
    const batchMemory = new WeakMap<FrameBatch, Uint8Array>()
    /** Batches handed out (to `frames` or the taker) and not released yet. */
    let outstanding = 0
    /** `Netif.takeNow`'s taker, while its scope lasts. */
    let taker: ((batch: FrameBatch) => void) | undefined
    const verifiedFlag = addon.checksumVerified
    addon.start(device.handle, (data, lengths, errno) => {
      if (lengths.length > 0) {
        let total = 0
        let verified: Uint8Array | undefined
        for (let i = 0; i < lengths.length; i++) {
          const length = lengths[i]!
          if ((length & verifiedFlag) !== 0) {
            verified ??= new Uint8Array(lengths.length)
            verified[i] = 1
            lengths[i] = length & ~verifiedFlag
          }
          total += lengths[i]!
        }
        const inPlace = taker !== undefined && outstanding === 0
        const memory = inPlace ? receiving : pool.take(total)
        if (!inPlace) memory.set(new Uint8Array(data, 0, total))
        const frames = new Array<Uint8Array>(lengths.length)
        // A view made from the buffer costs about half of one made with `subarray` (measured).
        // In place, the frames lie from the start of `data` (the receive memory's buffer), whose `.buffer` getter is not cheap.
        const buffer = inPlace ? data : memory.buffer
        let offset = inPlace ? 0 : memory.byteOffset
        for (let i = 0; i < lengths.length; i++) {
          const length = lengths[i]!
          frames[i] = new Uint8Array(buffer, offset, length)
          offset += length
        }
        const batch: FrameBatch = verified === undefined ? frames : Object.assign(frames, { checksumVerified: verified })
        batchMemory.set(batch, memory)
        countRx(stats, batch)
        outstanding++
        if (inPlace) {
          try {
            taker!(batch)
          } finally {
            if (outstanding > 0) keepReceiving()
          }
        } else if (!Queue.offerUnsafe(rx, batch)) {
          stats.rxDrops += batch.length
          outstanding--
        }
        if (!paused && Queue.isFullUnsafe(rx)) {
          paused = true
          addon.pause(device.handle)
        }
      }
      if (errno === 0) return
      if (fatal.has(errno)) disconnect(errno)
      else stats.rxErrors++
    }, receiving.buffer as ArrayBuffer)

    const resumeIfPaused = <A>(batches: A): A => {
      if (paused && gone === undefined) {
        paused = false
        addon.resume(device.handle)
      }
      return batches
    }
    const frames = Stream.fromPull(Effect.succeed(Effect.map(Queue.takeAll(rx), resumeIfPaused)))

    const waitWritable = Effect.callback<void>((resume) => {
      const wake = () => resume(Effect.void)
      writableWaiters.add(wake)
      if (writableWaiters.size === 1) {
        addon.waitWritable(device.handle, () => {
          for (const waiter of writableWaiters) waiter()
          writableWaiters.clear()
        })
      }
      return Effect.sync(() => writableWaiters.delete(wake))
    })

    /**
     * Sends well-sized frames[start..] in one synchronous pass: undefined when
     * the device took them all, else what is left to do (wait for room on
     * EAGAIN and go on, or fail).
     */
    const sendNow = (frames: ReadonlyArray<Uint8Array>, start: number, refused: Array<string>): Effect.Effect<void, NetifError> | undefined => {
      if (gone !== undefined) return Effect.fail(gone)
      let next = start
      while (next < frames.length) {
        const { done, errno } = addon.write(device.handle, frames, next)
        for (let i = next; i < next + done; i++) stats.txBytes += frames[i]!.length
        stats.txFrames += done
        next += done
        if (errno === 0) continue
        if (errno === EAGAIN) return Effect.flatMap(waitWritable, () => Effect.suspend(() => sendNow(frames, next, refused) ?? Effect.void))
        if (fatal.has(errno)) return Effect.fail(disconnect(errno))
        if (errno === ENOBUFS) stats.txDrops++
        else {
          stats.txErrors++
          refused.push(`kernel refused a ${frames[next]!.length}-byte frame: ${describe(errno)}`)
        }
        next++
      }
      return refused.length === 0
        ? undefined
        : Effect.fail(new NetifWriteFailed({ device: device.name, failed: refused.length, reason: refused.join("; ") }))
    }

    /** `Netif.writeNow`: refuses frames of a wrong size (counted, reported at the end), sends the rest at once. */
    const writeNow = (frames: ReadonlyArray<Uint8Array>): Effect.Effect<void, NetifError> | undefined => {
      const refused: Array<string> = []
      for (const frame of frames) {
        const problem = sizeProblem(frame)
        if (problem !== undefined) refused.push(problem)
      }
      stats.txErrors += refused.length
      const sendable = refused.length === 0 ? frames : frames.filter((frame) => sizeProblem(frame) === undefined)
      return sendNow(sendable, 0, refused)
    }
    const writeBatch = (frames: ReadonlyArray<Uint8Array>) => Effect.suspend(() => writeNow(frames) ?? Effect.void)
    yield* Effect.logDebug(`netif ${kind} ${device.name} open (max ${ETHERNET_HEADER + mtu}-byte frames, ${device.ring ? `batched through io_uring${device.multishot ? ", received by a multishot read" : ""}` : "a system call per frame"}${device.threaded ? ", the kernel's side on a NAPI thread" : ""})`)
    return Netif.of({
      mac,
      mtu,
      ...(device.offload ? { tcpSegmentation: MAX_IPV4_PACKET, checksumOffload: true } : {}),
      frames,
      release: (batch) => {
        const memory = batchMemory.get(batch)
        if (memory === undefined) return
        batchMemory.delete(batch)
        outstanding--
        if (memory === receiving) return
        if (keptReceiving.delete(memory)) spareReceiving = memory
        else pool.release([memory])
      },
      takeNow: (take) =>
        Effect.acquireRelease(Effect.sync(() => void (taker = take)), () => Effect.sync(() => void (taker = undefined))),
      writeBatch,
      writeNow,
      write: (frame) => writeBatch([frame]),
      stats: Effect.sync(() => snapshot(stats)),
    })
  })

/**
 * A `Netif` on a Linux TAP device, created if missing (`IFF_TAP | IFF_NO_PI`).
 * Needs `build/tap.node` and CAP_NET_ADMIN; closed when the layer is released.
 */
export const layerTap = (options: NetifTapOptions): Layer.Layer<Netif, NetifError> =>
  Layer.effect(Netif, makeDeviceNetif("tap", options))

/**
 * A `Netif` on an AF_PACKET raw socket bound to an existing interface (put in
 * promiscuous mode); for a VM's dedicated NIC. Needs CAP_NET_RAW.
 */
export const layerPacket = (options: NetifTapOptions): Layer.Layer<Netif, NetifError> =>
  Layer.effect(Netif, makeDeviceNetif("packet", options))
