/**
 * Per-connection options (`TcpFlowOptions`): no-delay and keepalive given to
 * `connect` and `listen` or set on a flow, on the direct stack (TestClock)
 * and the socket stack (the host's kernel, checked with `ss`).
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Scope } from "effect"
import { spawnSync } from "node:child_process"
import type { Socket } from "node:net"
import { toDuplex } from "../../../src/net/FlowDuplex.ts"
import { layerSocket } from "../../../src/net/socket/SocketStack.ts"
import { Stack } from "../../../src/net/Stack.ts"
import type { Flow, TcpFlowOptions } from "../../../src/net/Stack.ts"
import { makeTcp } from "../../../src/net/tcp/TcpLayer.ts"
import { drive, linked } from "./linked.ts"
import { prng } from "./sim.ts"

const seeded = (seed: number) => {
  const rand = prng(seed)
  return () => Math.floor(rand() * 4294967296) >>> 0
}

/** Two direct TCP shells, each in a scope of its own: closing one makes that peer vanish without a word. */
const peers = (seed: number) =>
  Effect.gen(function* () {
    const [ipA, ipB] = yield* linked(seed)
    const scopeA = yield* Scope.make()
    const scopeB = yield* Scope.make()
    const a = yield* makeTcp(ipA, { random: seeded(seed) }).pipe(Scope.provide(scopeA))
    const b = yield* makeTcp(ipB, { random: seeded(seed + 1) }).pipe(Scope.provide(scopeB))
    return { a, b, vanishA: Scope.close(scopeA, Exit.void), vanishB: Scope.close(scopeB, Exit.void) }
  })

const server = { address: "10.0.0.2", port: 7 }
const keepalive = { idleMs: 10_000, intervalMs: 1000, probes: 3 }

/** Reads until the end of the stream, forever if it never comes. */
const drain = (flow: Flow): Effect.Effect<void> => Effect.orDie(Effect.flatMap(flow.read, (data) => (data === undefined ? Effect.void : drain(flow))))

describe("per-connection options on the direct stack", () => {
  it.effect("keepalive given to connect drops the connection once its peer vanished; one without it stays open", () =>
    drive(Effect.gen(function* () {
      const { a, b, vanishB } = yield* peers(1)
      yield* b.listen(server.port, drain)
      const probed = yield* a.connect(server, { keepalive })
      const plain = yield* a.connect(server)
      const plainRead = yield* Effect.forkChild(plain.read)
      yield* vanishB
      const start = yield* Clock.currentTimeMillis
      const error = yield* Effect.flip(probed.read)
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(error._tag).toBe("TcpTimeout")
      expect(error.message).toContain("keepalive")
      // 10 s idle (counted from the last segment, just before the peer vanished), then 3 probes 1 s apart, dropped 1 s after the last.
      expect(elapsed).toBeGreaterThanOrEqual(12_500)
      expect(elapsed).toBeLessThanOrEqual(13_000)
      yield* Effect.sleep(600_000)
      expect(plainRead.pollUnsafe()).toBeUndefined()
    }).pipe(Effect.scoped), 100, 1_000_000))

  it.effect("keepalive given to listen applies to every connection it accepts", () =>
    drive(Effect.gen(function* () {
      const { a, b, vanishA } = yield* peers(2)
      const ended = yield* Deferred.make<string>()
      yield* b.listen(server.port, (flow) => Effect.flip(Effect.forever(flow.read)).pipe(Effect.flatMap((e) => Deferred.succeed(ended, e._tag))), { keepalive })
      const flow = yield* a.connect(server)
      yield* flow.write(new Uint8Array([1]))
      yield* vanishA
      expect(yield* Deferred.await(ended)).toBe("TcpTimeout")
    }).pipe(Effect.scoped), 100, 100_000))

  it.effect("setKeepalive(undefined) stops probing, and setKeepalive starts it on a flow opened without", () =>
    drive(Effect.gen(function* () {
      const { a, b, vanishB } = yield* peers(3)
      yield* b.listen(server.port, drain)
      const stopped = yield* a.connect(server, { keepalive })
      yield* stopped.setKeepalive(undefined)
      const started = yield* a.connect(server)
      yield* started.setKeepalive(keepalive)
      const stoppedRead = yield* Effect.forkChild(stopped.read)
      yield* vanishB
      expect((yield* Effect.flip(started.read))._tag).toBe("TcpTimeout")
      yield* Effect.sleep(600_000)
      expect(stoppedRead.pollUnsafe()).toBeUndefined()
    }).pipe(Effect.scoped), 100, 1_000_000))

  /** Data segments B receives for ten 10-byte buffers written at once over `flow`. */
  const segmentsForSmallWrites = (options: TcpFlowOptions, setUp: (flow: Flow) => Effect.Effect<void> = () => Effect.void) =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* peers(4)
      const accepted = yield* Deferred.make<void>()
      const received = yield* Deferred.make<void>()
      yield* b.listen(server.port, (flow) =>
        Effect.gen(function* () {
          yield* Deferred.succeed(accepted, undefined)
          let bytes = 0
          while (bytes < 100) bytes += (yield* flow.read)?.length ?? 100
          yield* Deferred.succeed(received, undefined)
        }).pipe(Effect.orDie))
      const flow = yield* a.connect(server, options)
      yield* setUp(flow)
      yield* Deferred.await(accepted) // the handshake's last ACK is in
      const before = b.engine.stats.segmentsReceived
      yield* flow.writev(Array.from({ length: 10 }, (_, i) => new Uint8Array(10).fill(i)))
      yield* Deferred.await(received)
      return b.engine.stats.segmentsReceived - before
    }).pipe(Effect.scoped))

  it.effect("Nagle holds small writes behind unacknowledged data; noDelay, from connect or set on the flow, sends each", () =>
    Effect.gen(function* () {
      expect(yield* segmentsForSmallWrites({})).toBe(2)
      expect(yield* segmentsForSmallWrites({ noDelay: true })).toBe(10)
      expect(yield* segmentsForSmallWrites({}, (flow) => flow.setNoDelay(true))).toBe(10)
      expect(yield* segmentsForSmallWrites({ noDelay: true }, (flow) => flow.setNoDelay(false))).toBe(2)
      // Node code sets it on the Duplex, as node:http does on every connection it serves.
      expect(yield* segmentsForSmallWrites({}, (flow) => Effect.sync(() => (toDuplex(flow) as unknown as Socket).setNoDelay(true)))).toBe(10)
    }))

  it.effect("refuses options out of range with StackInvalidArgument, naming them, and leaves the port free", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* peers(5)
      const bad: ReadonlyArray<[TcpFlowOptions, string]> = [
        [{ keepalive: { idleMs: 0 } }, "keepalive.idleMs is 0"],
        [{ keepalive: { intervalMs: -5 } }, "keepalive.intervalMs is -5"],
        [{ keepalive: { probes: 1.5 } }, "keepalive.probes is 1.5"],
        [{ noDelay: "yes" as unknown as boolean }, "noDelay is yes"],
      ]
      for (const [options, named] of bad) {
        const listenError = yield* Effect.flip(b.listen(server.port, drain, options))
        expect(listenError._tag).toBe("StackInvalidArgument")
        expect(listenError.message).toContain(named)
        const connectError = yield* Effect.flip(a.connect(server, options))
        expect(connectError.message).toContain(named)
      }
      yield* b.listen(server.port, drain, { noDelay: true, keepalive: {} })
      const flow = yield* a.connect(server)
      expect((yield* Effect.flip(flow.setKeepalive({ probes: 0 }))).message).toContain("keepalive.probes is 0")
    }).pipe(Effect.scoped)))
})

/** The whole seconds left on the keepalive timer `ss` shows for the connection to `port` on loopback, if any. */
const keepaliveSeconds = (port: number): number | undefined => {
  const out = spawnSync("ss", ["-tnoH", "state", "established", `( dport = :${port} )`], { encoding: "utf8" }).stdout
  const seconds = /timer:\(keepalive,(\d+)sec,/.exec(out)?.[1]
  return seconds === undefined ? undefined : Number(seconds)
}

const ssSkipReason = spawnSync("ss", ["-V"]).status === 0 ? undefined : "ss (iproute2) is not installed"
if (ssSkipReason !== undefined) console.log(`skipping the socket stack's keepalive check: ${ssSkipReason}`)

describe("per-connection options on the socket stack", () => {
  it.live.skipIf(ssSkipReason !== undefined)("gives the host socket the keepalive idle time asked for, and refuses what node:net cannot set", () =>
    Effect.gen(function* () {
      const stack = yield* Stack
      const port = 42_000 + Math.floor(Math.random() * 1000)
      yield* stack.tcp.listen(port, drain)
      const probed = yield* stack.tcp.connect({ address: "127.0.0.1", port }, { noDelay: true, keepalive: { idleMs: 20_000 } })
      const seconds = keepaliveSeconds(port)
      expect(seconds).toBeGreaterThanOrEqual(15)
      expect(seconds).toBeLessThanOrEqual(20)
      yield* probed.setKeepalive(undefined)
      expect(keepaliveSeconds(port)).toBeUndefined()
      const error = yield* Effect.flip(probed.setKeepalive({ idleMs: 5000, probes: 3 }))
      expect(error._tag).toBe("StackInvalidArgument")
      expect(error.message).toContain("leave intervalMs and probes out, or use the direct stack")
      expect((yield* Effect.flip(stack.tcp.connect({ address: "127.0.0.1", port }, { keepalive: { intervalMs: 1000 } })))._tag)
        .toBe("StackInvalidArgument")
    }).pipe(Effect.scoped, Effect.provide(layerSocket({ address: "127.0.0.1" }))))
})
