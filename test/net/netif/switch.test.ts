import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { formatMac } from "../../../src/net/Netif.ts"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import type { SwitchOptions } from "../../../src/net/NetifSwitch.ts"
import { BROADCAST, collect, seqOf, settle, testFrame } from "./frames.ts"

const UNKNOWN = Uint8Array.of(0x02, 0, 0, 0, 0x99, 0x99)

/** Two ports, A sends `count` frames of `length` bytes to B; returns B's deliveries and the wire stats. */
const pairRun = (options: SwitchOptions, count: number, length = 64) =>
  Effect.gen(function* () {
    const sw = yield* Switch.make(options)
    const a = yield* sw.port()
    const b = yield* sw.port()
    const atB = yield* collect(b)
    yield* a.writeBatch(Array.from({ length: count }, (_, seq) => testFrame(b.mac, a.mac, seq, length)))
    yield* settle
    return { a, b, atB, sw }
  })

/** Runs to completion, letting virtual time pass until nothing is in flight. */
const deliveries = (options: SwitchOptions, count: number) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const { atB, sw } = yield* pairRun(options, count)
    yield* TestClock.adjust("10 seconds")
    yield* settle
    const times = atB.map((r) => Math.round((r.at - start) * 1000) / 1000) // µs: absolute times carry float noise
    return { seqs: atB.map((r) => seqOf(r.frame)), frames: atB.map((r) => r.frame), times, wire: yield* sw.stats }
  }).pipe(Effect.scoped)

describe("in-memory switch", () => {
  it.effect("learns MACs: broadcast and unknown unicast flood, known unicast goes to one port", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const [a, b, c] = [yield* sw.port(), yield* sw.port(), yield* sw.port()]
      expect(new Set([a, b, c].map((p) => formatMac(p.mac))).size).toBe(3)
      const [atA, atB, atC] = [yield* collect(a), yield* collect(b), yield* collect(c)]

      yield* a.write(testFrame(BROADCAST, a.mac, 1))
      yield* settle
      expect([atA.length, atB.length, atC.length]).toEqual([0, 1, 1])

      yield* b.write(testFrame(a.mac, b.mac, 2)) // A is known: only A
      yield* settle
      expect([atA.length, atB.length, atC.length]).toEqual([1, 1, 1])
      expect(seqOf(atA[0]!.frame)).toBe(2)

      yield* a.write(testFrame(b.mac, a.mac, 3)) // B learned from its reply
      yield* settle
      expect([atA.length, atB.length, atC.length]).toEqual([1, 2, 1])

      yield* c.write(testFrame(UNKNOWN, c.mac, 4)) // unknown unicast: flood
      yield* settle
      expect([atA.length, atB.length, atC.length]).toEqual([2, 3, 1])

      expect(yield* a.stats).toMatchObject({ txFrames: 2, txBytes: 128, rxFrames: 2, rxBytes: 128 })
      expect((yield* sw.stats).delivered).toBe(6)
    }))

  it.effect("a batch written arrives as one batch, in order, as copies", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* sw.port()
      const b = yield* sw.port()
      const batches: Array<ReadonlyArray<Uint8Array>> = []
      yield* Effect.forkScoped(Stream.runForEach(b.frames, (batch) => Effect.sync(() => batches.push(batch))))
      yield* settle
      const sent = [1, 2, 3].map((seq) => testFrame(b.mac, a.mac, seq))
      yield* a.writeBatch(sent)
      sent[0]!.fill(0) // the switch copied on write
      yield* settle
      expect(batches.map((batch) => batch.map(seqOf))).toEqual([[1, 2, 3]])
    }))

  it.effect("loss drops about the configured share, reproducibly per seed", () =>
    Effect.gen(function* () {
      const first = yield* deliveries({ seed: 7, loss: 0.3 }, 1000)
      const again = yield* deliveries({ seed: 7, loss: 0.3 }, 1000)
      const other = yield* deliveries({ seed: 8, loss: 0.3 }, 1000)
      expect(first.seqs.length).toBeGreaterThan(630)
      expect(first.seqs.length).toBeLessThan(770)
      expect(first.wire.lost + first.seqs.length).toBe(1000)
      expect(again.seqs).toEqual(first.seqs)
      expect(other.seqs).not.toEqual(first.seqs)
      expect(first.seqs).toEqual([...first.seqs].sort((x, y) => x - y))
    }))

  it.effect("duplication delivers extra copies", () =>
    Effect.gen(function* () {
      const run = yield* deliveries({ seed: 3, duplicate: 0.2 }, 1000)
      expect(run.wire.duplicated).toBeGreaterThan(140)
      expect(run.wire.duplicated).toBeLessThan(260)
      expect(run.seqs.length).toBe(1000 + run.wire.duplicated)
      expect(new Set(run.seqs).size).toBe(1000)
      expect((yield* deliveries({ seed: 3, duplicate: 0.2 }, 1000)).seqs).toEqual(run.seqs)
    }))

  it.effect("reordering holds frames back so later ones overtake them", () =>
    Effect.gen(function* () {
      const { atB, sw } = yield* pairRun({ seed: 5, reorder: 0.25, reorderDelay: "5 millis" }, 200)
      const early = atB.length
      const { reordered } = yield* sw.stats
      expect(reordered).toBeGreaterThan(25)
      expect(early).toBe(200 - reordered)
      yield* TestClock.adjust("5 millis")
      yield* settle
      const seqs = atB.map((r) => seqOf(r.frame))
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i))
      expect(seqs).not.toEqual([...seqs].sort((x, y) => x - y))
      expect(atB.slice(early).every((r) => r.at === 5)).toBe(true)
    }).pipe(Effect.scoped))

  it.effect("delay is honoured on the virtual clock", () =>
    Effect.gen(function* () {
      const { atB } = yield* pairRun({ delay: "10 millis" }, 3)
      expect(atB.length).toBe(0)
      yield* TestClock.adjust("9 millis")
      yield* settle
      expect(atB.length).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(atB.map((r) => [r.at, seqOf(r.frame)])).toEqual([[10, 0], [10, 1], [10, 2]])
    }).pipe(Effect.scoped))

  it.effect("corruption flips exactly one bit of the configured share of frames", () =>
    Effect.gen(function* () {
      const run = yield* deliveries({ seed: 11, corrupt: 1 }, 50)
      expect(run.wire.corrupted).toBe(50)
      run.frames.forEach((frame, i) => {
        const sent = testFrame(Uint8Array.of(0x02, 0, 0, 0, 0, 2), Uint8Array.of(0x02, 0, 0, 0, 0, 1), i)
        const flipped = frame.reduce((bits, byte, j) => bits + popcount(byte ^ sent[j]!), 0)
        expect(flipped).toBe(1)
      })
      const again = yield* deliveries({ seed: 11, corrupt: 1 }, 50)
      expect(again.frames).toEqual(run.frames)
    }))

  it.effect("rate limit spaces frames by their serialization time", () =>
    Effect.gen(function* () {
      // 1250-byte frames = 10_000 bits = 10 ms each at 1 Mbit/s, plus 2 ms latency
      const { atB } = yield* pairRun({ rateBitsPerSecond: 1_000_000, delay: "2 millis" }, 5, 1250)
      for (let t = 0; t < 60; t++) {
        yield* TestClock.adjust("1 millis")
        yield* settle
      }
      expect(atB.map((r) => r.at)).toEqual([12, 22, 32, 42, 52])
      expect(atB.map((r) => seqOf(r.frame))).toEqual([0, 1, 2, 3, 4])
    }).pipe(Effect.scoped))

  it.effect("all impairments together replay identically with the same seed", () =>
    Effect.gen(function* () {
      const options: SwitchOptions = {
        seed: 42, loss: 0.05, duplicate: 0.05, reorder: 0.1, corrupt: 0.05, delay: "3 millis", rateBitsPerSecond: 10_000_000,
      }
      const first = yield* deliveries(options, 500)
      const again = yield* deliveries(options, 500)
      expect(again).toEqual(first)
      expect(first.wire.lost).toBeGreaterThan(0)
      expect(first.wire.duplicated).toBeGreaterThan(0)
      expect(first.wire.reordered).toBeGreaterThan(0)
      expect(first.wire.corrupted).toBeGreaterThan(0)
    }))

  it.effect("per-port impairments override the switch-wide ones", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make({ loss: 1 })
      const a = yield* sw.port({ impairments: { loss: 0 } })
      const b = yield* sw.port()
      const [atA, atB] = [yield* collect(a), yield* collect(b)]
      yield* a.write(testFrame(b.mac, a.mac, 1))
      yield* b.write(testFrame(a.mac, b.mac, 2))
      yield* settle
      expect([atA.length, atB.length]).toEqual([0, 1])
    }))

  it.effect("a full receive queue drops and counts; oversize frames fail the write", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* sw.port({ mtu: 100 })
      const b = yield* sw.port({ rxQueueFrames: 10 })
      yield* a.writeBatch(Array.from({ length: 15 }, (_, seq) => testFrame(b.mac, a.mac, seq)))
      expect((yield* b.stats).rxDrops).toBe(5)
      expect((yield* b.stats).rxFrames).toBe(10)
      const error = yield* Effect.flip(a.writeBatch([testFrame(b.mac, a.mac, 1, 115), testFrame(b.mac, a.mac, 2, 114)]))
      expect(error._tag).toBe("NetifWriteFailed")
      expect(error.message).toContain("exceeds MTU 100")
      expect(yield* a.stats).toMatchObject({ txErrors: 1, txFrames: 16 })
    }))

  it.live("moves 10 MiB of full frames with 1% loss quickly", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make({ seed: 1, loss: 0.01 })
      const a = yield* sw.port()
      const b = yield* sw.port()
      const atB = yield* collect(b)
      const batch = Array.from({ length: 64 }, (_, seq) => testFrame(b.mac, a.mac, seq, 1514))
      const start = performance.now()
      const batches = Math.ceil((10 * 1024 * 1024) / (64 * 1514))
      for (let i = 0; i < batches; i++) {
        yield* a.writeBatch(batch)
        if (i % 16 === 0) yield* settle
      }
      yield* settle
      const ms = performance.now() - start
      console.log(`switch: ${batches * 64} frames of 1514 B in ${ms.toFixed(0)} ms (${((batches * 64) / ms * 1000).toFixed(0)} frames/s)`)
      expect(atB.length + (yield* sw.stats).lost).toBe(batches * 64)
      expect(ms).toBeLessThan(5000)
    }).pipe(Effect.scoped))

  it.effect("moves 10 MiB through a delayed 100 Mbit/s link on the virtual clock", () =>
    Effect.gen(function* () {
      const sw = yield* Switch.make({ seed: 1, loss: 0.01, delay: "5 millis", rateBitsPerSecond: 100_000_000 })
      const a = yield* sw.port()
      const b = yield* sw.port()
      const atB = yield* collect(b)
      const batch = Array.from({ length: 64 }, (_, seq) => testFrame(b.mac, a.mac, seq, 1514))
      const batches = Math.ceil((10 * 1024 * 1024) / (64 * 1514))
      const start = performance.now()
      for (let i = 0; i < batches; i++) {
        yield* a.writeBatch(batch)
        yield* TestClock.adjust("8 millis") // a bit more than one batch's 7.75 ms serialization
      }
      yield* TestClock.adjust("20 millis")
      const ms = performance.now() - start
      console.log(`switch (delay + rate, TestClock): ${batches * 64} frames in ${ms.toFixed(0)} ms`)
      expect(atB.length + (yield* sw.stats).lost).toBe(batches * 64)
      const last = atB[atB.length - 1]!.at
      expect(last).toBeGreaterThan(batches * 7.75)
      expect(ms).toBeLessThan(10_000)
    }))
})

const popcount = (x: number): number => {
  let n = 0
  for (let v = x; v; v &= v - 1) n++
  return n
}
