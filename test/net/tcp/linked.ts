/**
 * Two `IpAccess` values joined back to back for tests of the Effect shell:
 * what one side sends reaches the other's registered protocol through a
 * delivery fiber (in order, losing a seeded fraction), stamped with the
 * Effect clock. Plus `drive`, which advances the `TestClock` until an effect
 * completes.
 */
import { Clock, Effect, Fiber, Queue } from "effect"
import type { Scope } from "effect"
import { TestClock } from "effect/testing"
import type { TransportProtocol } from "../../../src/net/direct/Transport.ts"
import type { IpAccess } from "../../../src/net/tcp/TcpLayer.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { prng } from "./sim.ts"

/** The addresses of the two sides. */
export const A = ipv4(10, 0, 0, 1)
export const B = ipv4(10, 0, 0, 2)

interface Packet {
  readonly source: number
  readonly destination: number
  readonly bytes: Uint8Array
}

/** Two linked IP layers: [A, B]; `loss` of the packets vanish. */
export const linked = (seed: number, loss = 0): Effect.Effect<readonly [IpAccess, IpAccess], never, Scope.Scope> =>
  Effect.gen(function* () {
    const clock = yield* Clock.Clock
    const rand = prng(seed)
    const side = (self: number, peer: number, outbox: Queue.Queue<Packet>, inbox: Queue.Queue<Packet>) =>
      Effect.gen(function* () {
        let protocol: TransportProtocol | undefined
        yield* Effect.forkScoped(Effect.forever(Effect.map(Queue.take(inbox), (packet) => {
          protocol?.input(packet.source, packet.destination, packet.bytes, 0, packet.bytes.length, clock.currentTimeMillisUnsafe(), false, 0)
        })))
        const access: IpAccess = {
          register: (p) => Effect.acquireRelease(Effect.sync(() => {
            protocol = p
          }), () => Effect.sync(() => {
            protocol = undefined
          })),
          sender: {
            sourceFor: (destination) => (destination === peer ? self : undefined),
            maxSegment: 1480,
            maxOffloadSegment: 1480,
            pathMtu: () => 1500,
            reducePathMtu: () => 1500,
            send: (destination, _protocol, length, write) => {
              if (destination !== peer) return false
              const bytes = new Uint8Array(length)
              write(bytes, 0, self, false)
              if (rand() >= loss) Queue.offerUnsafe(outbox, { source: self, destination, bytes })
              return true
            },
          },
        }
        return access
      })
    const toB = yield* Queue.unbounded<Packet>()
    const toA = yield* Queue.unbounded<Packet>()
    return [yield* side(A, B, toB, toA), yield* side(B, A, toA, toB)] as const
  })

/** Run `effect`, advancing the TestClock by `stepMs` whenever it waits, for at most `limitMs`. */
export const drive = <X, E, R>(effect: Effect.Effect<X, E, R>, stepMs = 10, limitMs = 600_000): Effect.Effect<X, E | string, R> =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(effect)
    for (let t = 0; t <= limitMs; t += stepMs) {
      yield* Effect.yieldNow
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return yield* exit
      yield* TestClock.adjust(stepMs)
    }
    yield* Fiber.interrupt(fiber)
    return yield* Effect.fail(`not done after ${limitMs} ms`)
  })
