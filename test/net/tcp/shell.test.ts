import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { connectionFlow } from "../../../src/net/tcp/flow.ts"
import { makeTcp } from "../../../src/net/tcp/TcpLayer.ts"
import type { Tcp } from "../../../src/net/tcp/TcpLayer.ts"
import { toSink } from "../../../src/net/FlowSink.ts"
import type { Flow } from "../../../src/net/Stack.ts"
import { readMixed } from "../flowReads.ts"
import { drive, linked } from "./linked.ts"
import { establish } from "./helpers.ts"
import { clean, prng, Sim } from "./sim.ts"
import { pattern } from "./transfer.ts"

const seeded = (seed: number) => {
  const rand = prng(seed)
  return () => Math.floor(rand() * 4294967296) >>> 0
}

const stacks = (seed: number, loss = 0, config = {}) =>
  Effect.gen(function* () {
    const [ipA, ipB] = yield* linked(seed, loss)
    const a = yield* makeTcp(ipA, { random: seeded(seed), config })
    const b = yield* makeTcp(ipB, { random: seeded(seed + 1), config })
    return { a, b }
  })

const server = { address: "10.0.0.2", port: 7 }

/** Echo every byte back, then shut down. */
const echo = (flow: Flow) => Stream.run(flow.stream, toSink(flow)).pipe(Effect.andThen(flow.shutdown), Effect.orDie)

const collect = (flow: Flow) => Effect.map(Stream.runCollect(flow.stream), (chunks) => Buffer.concat([...chunks]))

/** 16 KiB send and receive buffers: a write of 200 KB blocks with 32 KiB in them. */
const small = { sendBuffer: 16 * 1024, receiveBuffer: 16 * 1024 }

/** A server on `server.port` that reads nothing until `go` completes, then collects the whole stream into `received`. */
const gatedCollector = (stack: Tcp) =>
  Effect.gen(function* () {
    const go = yield* Deferred.make<void>()
    const received = yield* Deferred.make<Buffer>()
    yield* stack.listen(server.port, (flow) =>
      Deferred.await(go).pipe(Effect.andThen(collect(flow)), Effect.flatMap((all) => Deferred.succeed(received, all)), Effect.orDie))
    return { go, received }
  })

describe("the Effect shell: Stack.tcp over the engine", () => {
  it.effect("echoes through listen/connect, with end of stream", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(1)
      yield* b.listen(7, echo)
      const flow = yield* a.connect(server)
      expect(flow.remote).toEqual(server)
      expect(flow.local.address).toBe("10.0.0.1")
      yield* flow.writev([new TextEncoder().encode("hello, "), new TextEncoder().encode("world")])
      yield* flow.shutdown
      expect((yield* collect(flow)).toString()).toBe("hello, world")
      expect(yield* flow.read).toBeUndefined()
    }).pipe(Effect.scoped)))

  it.effect("moves 512 KiB intact through flows over a 10% lossy link, timers on the TestClock", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(2, 0.1)
      yield* b.listen(7, echo)
      const flow = yield* a.connect(server)
      const data = pattern(512 * 1024, 5)
      const reader = yield* Effect.forkChild(collect(flow))
      yield* flow.write(data)
      yield* flow.shutdown
      const back = yield* Fiber.join(reader)
      expect(back.equals(Buffer.from(data))).toBe(true)
      expect(a.engine.stats.segmentsReceived).toBeGreaterThan(300)
    }).pipe(Effect.scoped), 50))

  it.effect("readInto fills a small reused buffer, interleaved with read, losing nothing", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(3, 0.05)
      const received = yield* Deferred.make<{ bytes: Buffer; filled: number }>()
      yield* b.listen(7, (flow) => Effect.flatMap(readMixed(flow, 1000), (r) => Deferred.succeed(received, r)).pipe(Effect.orDie))
      const flow = yield* a.connect(server)
      const data = pattern(200 * 1024, 9)
      yield* flow.write(data)
      yield* flow.shutdown
      const { bytes, filled } = yield* Deferred.await(received)
      expect(bytes.equals(Buffer.from(data))).toBe(true)
      expect(filled).toBeGreaterThan(50)
    }).pipe(Effect.scoped), 50))

  it.effect("a read or readInto interrupted after its waiting buffer took bytes leaves them for the next read", () =>
    Effect.gen(function* () {
      for (const how of ["read", "readInto"] as const) {
        const sim = new Sim(46, clean)
        const { client, server } = establish(sim)
        const flow = connectionFlow(server, () => sim.now)
        const lent = new Uint8Array(1000)
        const reader = yield* Effect.forkChild(how === "read" ? flow.read : flow.readInto(lent))
        yield* Effect.yieldNow // the reader waits, a buffer lent
        const data = pattern(300, 11)
        // In one synchronous step: the bytes arrive (into the waiting buffer), and the reader is interrupted before it runs.
        yield* Effect.sync(() => {
          client.send(data, sim.now)
          sim.run(() => server.receiveBuffer.readable === data.length)
          reader.interruptUnsafe()
        })
        expect(Exit.hasInterrupts(yield* Fiber.await(reader))).toBe(true)
        if (how === "readInto") expect(lent.subarray(0, 300)).toEqual(data) // they had gone straight into its buffer
        expect(server.receiveBuffer.window).toBe(server.receiveBuffer.capacity) // and had not narrowed the window
        const next = new Uint8Array(1000)
        expect(yield* flow.readInto(next)).toBe(300)
        expect(next.subarray(0, 300)).toEqual(data)
      }
    }))

  it.effect("writes wait while the send buffer and the peer's window are full (backpressure)", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(3, 0, small)
      const { go, received } = yield* gatedCollector(b)
      const flow = yield* a.connect(server)
      const writer = yield* Effect.forkChild(flow.write(pattern(200_000, 1)).pipe(Effect.andThen(flow.shutdown)))
      yield* TestClock.adjust(2000)
      expect(writer.pollUnsafe()).toBeUndefined() // blocked: 32 KiB in buffers, 200 KB to go
      yield* Deferred.succeed(go, undefined)
      yield* Fiber.join(writer)
      expect((yield* Deferred.await(received)).length).toBe(200_000)
    }).pipe(Effect.scoped)))

  it.effect("an interrupted write sends only what it had queued, and the flow goes on", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(6, 0, small)
      const { go, received } = yield* gatedCollector(b)
      const flow = yield* a.connect(server)
      const data = pattern(200_000, 2)
      const writer = yield* Effect.forkChild(flow.write(data))
      yield* TestClock.adjust(2000)
      yield* Fiber.interrupt(writer) // blocked with 32 KiB in the buffers
      yield* Deferred.succeed(go, undefined)
      yield* TestClock.adjust(2000) // the reader drains the buffers
      const tail = new TextEncoder().encode("the end")
      yield* flow.write(tail)
      yield* flow.shutdown
      const all = yield* Deferred.await(received)
      const queued = all.length - tail.length
      expect(queued).toBeGreaterThanOrEqual(16 * 1024)
      expect(queued).toBeLessThanOrEqual(32 * 1024)
      expect(all.equals(Buffer.concat([data.subarray(0, queued), tail]))).toBe(true)
    }).pipe(Effect.scoped)))

  it.effect("a write blocked on a full window fails with TcpReset when the peer resets", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(7, 0, small)
      // The server reads nothing and returns: closing with unread data resets.
      yield* b.listen(7, () => Effect.sleep(100))
      const flow = yield* a.connect(server)
      const error = yield* Effect.flip(flow.write(pattern(200_000, 3)))
      expect(error._tag).toBe("TcpReset")
    }).pipe(Effect.scoped)))

  it.effect("fails with TcpRefused, TcpTimeout, TcpClosed and TcpReset", () =>
    drive(Effect.gen(function* () {
      const { a, b } = yield* stacks(4)
      const refused = yield* Effect.flip(a.connect({ address: "10.0.0.2", port: 9 }))
      expect(refused._tag).toBe("TcpRefused")
      const unreachable = yield* Effect.flip(a.connect({ address: "10.9.9.9", port: 9 }))
      expect(unreachable._tag).toBe("StackUnreachable")
      const invalid = yield* Effect.flip(a.connect({ address: "nope", port: 9 }))
      expect(invalid._tag).toBe("StackInvalidArgument")
      // The server takes data, reads none and returns: closing with unread data resets (RFC 2525).
      const gotData = yield* Deferred.make<void>()
      yield* b.listen(7, (flow) => Effect.gen(function* () {
        yield* Effect.sleep(100)
        yield* Deferred.succeed(gotData, undefined)
        expect(flow.remote.address).toBe("10.0.0.1")
      }))
      expect((yield* Effect.flip(b.listen(7, () => Effect.void)))._tag).toBe("StackPortUnavailable")
      const flow = yield* a.connect(server)
      yield* flow.write(new Uint8Array(10))
      yield* Deferred.await(gotData)
      const reset = yield* Effect.flip(flow.read)
      expect(reset._tag).toBe("TcpReset")
      const closed = yield* Effect.flip(flow.write(new Uint8Array(1)))
      expect(closed._tag).toBe("TcpReset")
      // A write after our own shutdown is TcpClosed.
      const second = yield* a.connect({ address: "10.0.0.2", port: 7 })
      yield* second.shutdown
      expect((yield* Effect.flip(second.write(new Uint8Array(1))))._tag).toBe("TcpClosed")
    }).pipe(Effect.scoped)))

  it.effect("times out connecting over a dead link", () =>
    drive(Effect.gen(function* () {
      const { a } = yield* stacks(5, 1, { maxSynRetransmissions: 3 })
      const error = yield* Effect.flip(a.connect(server))
      expect(error._tag).toBe("TcpTimeout")
      expect(error.message).toContain("during connect")
    }).pipe(Effect.scoped), 100))
})
