import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { makeIsnGenerator } from "../../../src/net/tcp/isn.ts"
import { ReceiveBuffer } from "../../../src/net/tcp/receiveBuffer.ts"
import { ByteRing } from "../../../src/net/tcp/ring.ts"
import { RttEstimator } from "../../../src/net/tcp/rtt.ts"
import { Scoreboard } from "../../../src/net/tcp/scoreboard.ts"
import { seqAdd, seqDiff } from "../../../src/net/wire/seq.ts"
import { pattern } from "./transfer.ts"

describe("engine parts", () => {
  test.prop([fc.array(fc.tuple(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 0, max: 9000 })), { minLength: 1, maxLength: 80 })])(
    "the byte ring returns bytes in order while its storage grows from 4 KiB to its capacity",
    (steps) => {
      const data = pattern(1 << 20, 2)
      const ring = new ByteRing(65536)
      let written = 0
      let read = 0
      for (const [write, take] of steps) {
        const n = Math.min(write, ring.free)
        // Half of it out of order first (as reassembly does), then the rest, then commit.
        const half = n >> 1
        ring.writeAt(ring.length + half, data.subarray(written + half, written + n))
        ring.writeAt(ring.length, data.subarray(written, written + half))
        ring.commit(n)
        written += n
        const m = Math.min(take, ring.length)
        const out = new Uint8Array(m)
        ring.copyOut(0, m, out, 0)
        ring.discard(m)
        expect(Buffer.from(out).equals(Buffer.from(data.subarray(read, read + m)))).toBe(true)
        read += m
      }
      expect(ring.length).toBe(written - read)
    },
  )

  test.prop([fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.boolean()), { minLength: 1, maxLength: 80 })])(
    "rings that recycle their storage and rings that reuse it each return only their own bytes",
    (steps) => {
      const rings = [0, 1, 2, 3].map((i) => ({ ring: new ByteRing(16384), data: pattern(1 << 19, i + 3), written: 0, read: 0 }))
      for (const [which, write, take, recycle] of steps) {
        const r = rings[which]!
        const n = Math.min(write, r.ring.free)
        r.ring.append(r.data.subarray(r.written, r.written + n))
        r.written += n
        const m = Math.min(take, r.ring.length)
        const out = new Uint8Array(m)
        r.ring.copyOut(0, m, out, 0)
        r.ring.discard(m)
        expect(Buffer.from(out).equals(Buffer.from(r.data.subarray(r.read, r.read + m)))).toBe(true)
        r.read += m
        if (recycle) r.ring.recycle() // gives the storage away only when empty
      }
      for (const r of rings) {
        const out = new Uint8Array(r.ring.length)
        r.ring.copyOut(0, out.length, out, 0)
        expect(Buffer.from(out).equals(Buffer.from(r.data.subarray(r.read, r.written)))).toBe(true)
      }
    },
  )

  test.prop([fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 60 })])(
    "the receive buffer reassembles segments arriving in any order, across sequence wrap",
    (start, order) => {
      const data = pattern(40 * 100, 1)
      const buffer = new ReceiveBuffer(8192, 64)
      let rcvNxt = start
      const pieces = [...Array(40).keys()]
      const arrivals = [...order.map((n) => pieces[n % 40]!), ...pieces] // shuffled, duplicated, then all
      const out: Array<Uint8Array> = []
      for (const i of arrivals) {
        const seq = seqAdd(start, i * 100)
        const offset = seqDiff(seq, rcvNxt)
        if (offset < 0) continue // already delivered (the caller trims old data)
        rcvNxt = seqAdd(rcvNxt, buffer.store(rcvNxt, seq, data.subarray(i * 100, i * 100 + 100)))
        // A small reader's buffer: reads are cut wherever it fills.
        const into = new Uint8Array(77)
        for (let n = buffer.readInto(into); n > 0; n = buffer.readInto(into)) out.push(into.slice(0, n))
      }
      expect(Buffer.concat(out).equals(Buffer.from(data))).toBe(true)
      expect(buffer.outOfOrder.isEmpty).toBe(true)
    },
  )

  it("bounds the out-of-order ranges and reports the newest as the first SACK block", () => {
    const buffer = new ReceiveBuffer(65536, 3)
    const seg = new Uint8Array(10)
    expect(buffer.store(0, 100, seg)).toBe(0)
    expect(buffer.store(0, 300, seg)).toBe(0)
    expect(buffer.store(0, 200, seg)).toBe(0)
    expect(buffer.store(0, 400, seg)).toBe(0) // a fourth range: dropped
    expect(buffer.outOfOrder.blocks(4)).toEqual([{ left: 200, right: 210 }, { left: 300, right: 310 }, { left: 100, right: 110 }])
    expect(buffer.store(0, 110, new Uint8Array(90))).toBe(0) // joins 100..110 and 200..210
    expect(buffer.outOfOrder.blocks(1)).toEqual([{ left: 100, right: 210 }])
  })

  it("the scoreboard finds holes and the highest SACKed byte", () => {
    const board = new Scoreboard(8)
    expect(board.highest).toBeUndefined()
    expect(board.update([{ left: 2000, right: 3000 }, { left: 4000, right: 6000 }, { left: 0, right: 500 }], 1000, 8000)).toBe(true)
    expect(board.bytes).toBe(3000)
    expect(board.highest).toBe(6000)
    expect(board.holeStart(1000)).toBe(1000)
    expect(board.holeEnd(1000, 8000)).toBe(2000)
    expect(board.holeStart(2500)).toBe(3000)
    board.advance(3000)
    expect(board.bytes).toBe(2000)
  })

  it("computes the RTO per RFC 6298 with a floor, backoff and a ceiling", () => {
    const rtt = new RttEstimator(1000, 200, 60_000)
    expect(rtt.rto).toBe(1000)
    rtt.sample(100, 0)
    expect(rtt.rto).toBe(300) // 100 + 4 × 50
    for (let i = 0; i < 20; i++) rtt.sample(10, i)
    expect(rtt.rto).toBe(200)
    rtt.backoff()
    rtt.backoff()
    expect(rtt.rto).toBe(800)
    for (let i = 0; i < 20; i++) rtt.backoff()
    expect(rtt.rto).toBe(60_000)
  })

  it("keeps the minimum RTT of the last five minutes: a path that grew longer is followed", () => {
    const rtt = new RttEstimator(1000, 200, 60_000)
    expect(rtt.min).toBe(Number.POSITIVE_INFINITY)
    rtt.sample(10, 0)
    for (let t = 1000; t <= 300_000; t += 1000) rtt.sample(40 + (t % 7000) / 1000, t)
    expect(rtt.min).toBe(10) // still within the window
    for (let t = 301_000; t <= 400_000; t += 1000) rtt.sample(40 + (t % 7000) / 1000, t)
    expect(rtt.min).toBe(40) // the 10 ms sample aged out; the longer path's best remains
    rtt.sample(5, 400_500)
    expect(rtt.min).toBe(5)
  })

  it("generates ISNs that grow with the clock per tuple and differ between tuples and keys (RFC 6528)", () => {
    let n = 1
    const isn = makeIsnGenerator(() => n++ * 0x9e3779b9)
    const a0 = isn.next(1, 80, 2, 5000, 0)
    expect(seqDiff(isn.next(1, 80, 2, 5000, 1000), a0)).toBe(250_000) // 4 µs ticks
    expect(isn.next(1, 80, 2, 5001, 0)).not.toBe(a0)
    const other = makeIsnGenerator(() => 7)
    expect(other.next(1, 80, 2, 5000, 0)).not.toBe(a0)
    expect(isn.timestampOffset(1, 80, 2, 5000)).toBe(isn.timestampOffset(1, 80, 2, 5000))
  })
})
