/**
 * An in-memory Ethernet switch: any number of `Netif` ports on one simulated
 * L2 segment, with seeded impairments (loss, duplication, reordering, delay,
 * corruption, rate limit) timed by Effect's `Clock` — under `TestClock` a
 * run is fully deterministic: same seed and same traffic, same deliveries.
 *
 * Impairments apply to the link from a port into the switch (what the port
 * sends). A frame's fate is drawn from that port's own PRNG when it is
 * written; frames that are neither delayed nor rate limited are switched
 * synchronously, the rest wait in one time-ordered heap served by a single
 * scheduler fiber. The switch learns source MACs; broadcast, multicast and
 * unknown unicast are flooded, known unicast goes to its port only.
 */
import { Cause, Clock, Duration, Effect, Latch, Layer, Queue, Stream } from "effect"
import type { Scope } from "effect"
import {
  Netif,
  NetifWriteFailed,
  frameSizeProblem,
  makeStatsCounter,
  snapshot,
} from "./Netif.ts"
import type { StatsCounter } from "./Netif.ts"

/** Link impairments; probabilities are in [0, 1]. */
export interface Impairments {
  /** Probability that a frame is lost. */
  readonly loss?: number
  /** Probability that a frame is delivered twice. */
  readonly duplicate?: number
  /** Probability that a frame is held back by `reorderDelay`, so later frames overtake it. */
  readonly reorder?: number
  /** Extra delay of a reordered frame (default 1 millisecond). */
  readonly reorderDelay?: Duration.Input
  /** One-way latency of the link. */
  readonly delay?: Duration.Input
  /** Probability that one random bit of a frame flips. */
  readonly corrupt?: number
  /** Serialization rate of the link; frames queue behind each other. Unlimited when absent. */
  readonly rateBitsPerSecond?: number
}

/** Options of `Switch.make`: a seed and the impairments of every port's link. */
export interface SwitchOptions extends Impairments {
  /** PRNG seed (default 1); each port derives its own stream from it. */
  readonly seed?: number
}

/** Options of one port. */
export interface PortOptions {
  /** The port's MAC (default `02:00:00:00:hi:lo` from the port number). */
  readonly mac?: Uint8Array
  /** The port's MTU (default 1500). */
  readonly mtu?: number
  /** Overrides the switch-wide impairments for what this port sends. */
  readonly impairments?: Impairments
  /** Frames waiting to be read before further ones are dropped (default 4096). */
  readonly rxQueueFrames?: number
}

/** What the simulated wire did, summed over all ports. */
export interface SwitchStats {
  /** Frames handed to destination ports (a flooded frame counts once per port). */
  readonly delivered: number
  /** Frames dropped by `loss`. */
  readonly lost: number
  /** Extra copies made by `duplicate`. */
  readonly duplicated: number
  /** Frames with a bit flipped by `corrupt`. */
  readonly corrupted: number
  /** Frames held back by `reorder`. */
  readonly reordered: number
}

/** A running switch; its ports are `Netif`s. */
export interface Switch {
  /** Plugs a new port in; unplugged when the scope closes. */
  readonly port: (options?: PortOptions) => Effect.Effect<Netif["Service"], never, Scope.Scope>
  /** A `Netif` layer for a new port. */
  readonly layer: (options?: PortOptions) => Layer.Layer<Netif>
  /** Wire counters. */
  readonly stats: Effect.Effect<SwitchStats>
}

/** mulberry32: a tiny, fast, seedable PRNG returning floats in [0, 1). */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A MAC at `offset` of a frame as a number (48 bits fit a double exactly). */
const macKey = (frame: Uint8Array, offset: number): number =>
  ((frame[offset]! << 8) | frame[offset + 1]!) * 4294967296 +
  (((frame[offset + 2]! << 24) | (frame[offset + 3]! << 16) | (frame[offset + 4]! << 8) | frame[offset + 5]!) >>> 0)

/** One port's state inside the switch. */
interface Port {
  readonly number: number
  readonly random: () => number
  readonly link: Link
  readonly stats: StatsCounter
  readonly rx: Queue.Queue<ReadonlyArray<Uint8Array>, Cause.Done>
  readonly rxCapacity: number
  rxWaiting: number
  pending: Array<Uint8Array>
  linkFreeAt: number
  open: boolean
}

/** Impairments resolved to numbers (times in milliseconds). */
interface Link {
  readonly loss: number
  readonly duplicate: number
  readonly reorder: number
  readonly reorderDelay: number
  readonly delay: number
  readonly corrupt: number
  readonly msPerBit: number
  readonly immediate: boolean
}

const resolveLink = (impairments: Impairments): Link => {
  const delay = Duration.toMillis(Duration.fromInputUnsafe(impairments.delay ?? 0))
  const msPerBit = impairments.rateBitsPerSecond ? 1000 / impairments.rateBitsPerSecond : 0
  return {
    loss: impairments.loss ?? 0,
    duplicate: impairments.duplicate ?? 0,
    reorder: impairments.reorder ?? 0,
    reorderDelay: Duration.toMillis(Duration.fromInputUnsafe(impairments.reorderDelay ?? 1)),
    delay,
    corrupt: impairments.corrupt ?? 0,
    msPerBit,
    immediate: delay === 0 && msPerBit === 0,
  }
}

/** Times closer than this (1 ns) count as equal: float sums of delays are not exact. */
const EPSILON_MS = 1e-6

/** A frame in flight, due at `at` (ms); `seq` keeps equal times in send order. */
interface InFlight {
  readonly at: number
  readonly seq: number
  readonly from: Port
  readonly frame: Uint8Array
}

const before = (a: InFlight, b: InFlight): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** A binary min-heap of frames in flight. */
class InFlightHeap {
  private readonly items: Array<InFlight> = []
  /** Number of frames in flight. */
  get size(): number {
    return this.items.length
  }
  /** The earliest frame, if any. */
  peek(): InFlight | undefined {
    return this.items[0]
  }
  /** Adds a frame. */
  push(item: InFlight): void {
    const items = this.items
    let i = items.push(item) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(item, items[parent]!)) break
      items[i] = items[parent]!
      i = parent
    }
    items[i] = item
  }
  /** Removes and returns the earliest frame. */
  pop(): InFlight | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= items.length) break
      const right = left + 1
      const child = right < items.length && before(items[right]!, items[left]!) ? right : left
      if (!before(items[child]!, last)) break
      items[i] = items[child]!
      i = child
    }
    items[i] = last
    return top
  }
}

/** Copies a batch into one fresh buffer; returns views of the copies. */
const copyBatch = (frames: ReadonlyArray<Uint8Array>): Array<Uint8Array> => {
  let total = 0
  for (const frame of frames) total += frame.length
  const buffer = new Uint8Array(total)
  const copies = new Array<Uint8Array>(frames.length)
  let offset = 0
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!
    buffer.set(frame, offset)
    copies[i] = buffer.subarray(offset, offset + frame.length)
    offset += frame.length
  }
  return copies
}

/** Creates a switch; its scheduler fiber and ports live as long as the scope. */
const make = (options: SwitchOptions = {}): Effect.Effect<Switch, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const now = (): number => clock.currentTimeMillisUnsafe()
    const seed = options.seed ?? 1
    const ports = new Set<Port>()
    const macTable = new Map<number, Port>()
    const inFlight = new InFlightHeap()
    const wake = yield* Latch.make(false)
    const dirty = new Set<Port>()
    const wire = { delivered: 0, lost: 0, duplicated: 0, corrupted: 0, reordered: 0 }
    let seq = 0
    let portCount = 0

    const enqueue = (port: Port, frame: Uint8Array): void => {
      if (!port.open) return
      if (port.rxWaiting + port.pending.length >= port.rxCapacity) {
        port.stats.rxDrops++
        return
      }
      port.pending.push(frame)
      dirty.add(port)
    }

    /** Learning-switch forwarding of one frame arriving from `from`. */
    const forward = (from: Port, frame: Uint8Array): void => {
      if (from.open && (frame[6]! & 1) === 0) macTable.set(macKey(frame, 6), from)
      if ((frame[0]! & 1) === 0) {
        const to = macTable.get(macKey(frame, 0))
        if (to !== undefined && to.open) {
          if (to !== from) enqueue(to, frame)
          return
        }
      }
      for (const port of ports) if (port !== from) enqueue(port, frame)
    }

    /** Hands every port its pending frames as one batch. */
    const flush = (): void => {
      for (const port of dirty) {
        const batch = port.pending
        port.pending = []
        port.rxWaiting += batch.length
        port.stats.rxFrames += batch.length
        for (const frame of batch) port.stats.rxBytes += frame.length
        wire.delivered += batch.length
        Queue.offerUnsafe(port.rx, batch)
      }
      dirty.clear()
    }

    /** Puts one written frame on `from`'s link, drawing its fate. */
    const transmit = (from: Port, frame: Uint8Array, time: number): void => {
      const link = from.link
      if (link.loss > 0 && from.random() < link.loss) {
        wire.lost++
        return
      }
      if (link.corrupt > 0 && from.random() < link.corrupt) {
        const bit = Math.floor(from.random() * frame.length * 8)
        frame[bit >> 3]! ^= 1 << (bit & 7)
        wire.corrupted++
      }
      const copies = link.duplicate > 0 && from.random() < link.duplicate ? 2 : 1
      wire.duplicated += copies - 1
      const held = link.reorder > 0 && from.random() < link.reorder
      if (held) wire.reordered++
      if (link.immediate && !held) {
        for (let i = 0; i < copies; i++) forward(from, frame)
        return
      }
      let departs = time
      if (link.msPerBit > 0) {
        from.linkFreeAt = Math.max(from.linkFreeAt, time) + frame.length * 8 * link.msPerBit
        departs = from.linkFreeAt
      }
      const at = departs + link.delay + (held ? link.reorderDelay : 0)
      const first = inFlight.peek()
      for (let i = 0; i < copies; i++) inFlight.push({ at, seq: seq++, from, frame })
      if (first === undefined || at < first.at) wake.openUnsafe()
    }

    /** Switches every frame that is due; returns the next due time. */
    const deliverDue = (): number | undefined => {
      const time = now()
      for (let next = inFlight.peek(); next !== undefined && next.at <= time + EPSILON_MS; next = inFlight.peek()) {
        inFlight.pop()
        forward(next.from, next.frame)
      }
      flush()
      return inFlight.peek()?.at
    }

    const scheduler = Effect.gen(function* () {
      for (;;) {
        yield* wake.close
        const due = deliverDue()
        if (due === undefined) yield* wake.await
        else yield* Effect.raceFirst(clock.sleep(Duration.millis(Math.max(EPSILON_MS, due - now()))), wake.await)
      }
    })
    yield* Effect.forkScoped(scheduler)

    const port = (portOptions: PortOptions = {}): Effect.Effect<Netif["Service"], never, Scope.Scope> =>
      Effect.gen(function* () {
        const number = ++portCount
        const mac = portOptions.mac ?? Uint8Array.of(0x02, 0, 0, 0, number >> 8, number & 0xff)
        const mtu = portOptions.mtu ?? 1500
        const state: Port = {
          number,
          random: mulberry32(seed ^ Math.imul(number, 0x9e3779b9)),
          link: resolveLink({ ...options, ...portOptions.impairments }),
          stats: makeStatsCounter(),
          rx: yield* Queue.unbounded<ReadonlyArray<Uint8Array>, Cause.Done>(),
          rxCapacity: portOptions.rxQueueFrames ?? 4096,
          rxWaiting: 0,
          pending: [],
          linkFreeAt: 0,
          open: true,
        }
        ports.add(state)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            state.open = false
            ports.delete(state)
            for (const [key, owner] of macTable) if (owner === state) macTable.delete(key)
            Queue.endUnsafe(state.rx)
          })
        )
        const taken = <A extends ReadonlyArray<ReadonlyArray<Uint8Array>>>(batches: A): A => {
          for (const batch of batches) state.rxWaiting -= batch.length
          return batches
        }
        const writeBatch = (frames: ReadonlyArray<Uint8Array>) =>
          Effect.suspend(() => {
            const time = now()
            const refused: Array<string> = []
            const copies = copyBatch(frames)
            for (const frame of copies) {
              const problem = frameSizeProblem(frame, mtu)
              if (problem !== undefined) {
                state.stats.txErrors++
                refused.push(problem)
                continue
              }
              state.stats.txFrames++
              state.stats.txBytes += frame.length
              transmit(state, frame, time)
            }
            flush()
            return refused.length === 0 ? Effect.void : Effect.fail(
              new NetifWriteFailed({ device: `switch port ${number}`, failed: refused.length, reason: refused.join("; ") }),
            )
          })
        return Netif.of({
          mac,
          mtu,
          frames: Stream.fromPull(Effect.succeed(Effect.map(Queue.takeAll(state.rx), taken))),
          writeBatch,
          write: (frame) => writeBatch([frame]),
          stats: Effect.sync(() => snapshot(state.stats)),
        })
      })

    return {
      port,
      layer: (portOptions) => Layer.effect(Netif, port(portOptions)),
      stats: Effect.sync(() => ({ ...wire })),
    } satisfies Switch
  })

/** The in-memory switch. */
export const Switch = {
  /** Creates a switch (scoped); `SwitchOptions` set the seed and the impairments of every link. */
  make,
} as const
