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

  test.prop([fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(fc.tuple(fc.nat(), fc.nat(5), fc.integer({ min: 1, max: 900 })), { minLength: 1, maxLength: 80 })])(
    "bytes stay in order, none lost, whether a reader lends its buffer or has one made, reads, withdraws, or another reader reads",
    (start, steps) => {
      const data = pattern(40 * 100, 4)
      const buffer = new ReceiveBuffer(2048, 64)
      let rcvNxt = start
      /** The loan: a reader's own buffer, one to be made ("new"), or none. */
      let lent: Uint8Array | "new" | undefined
      const out: Array<Uint8Array> = []
      const read = (into: Uint8Array) => {
        const n = buffer.readInto(into)
        if (n > 0) out.push(into.slice(0, n))
        if (into === lent && n > 0) lent = undefined
        return n
      }
      const arrive = (i: number) => {
        const seq = seqAdd(start, i * 100)
        const offset = seqDiff(seq, rcvNxt)
        if (offset < 0 || offset + 100 > buffer.window) return // old, or beyond the window (the caller trims)
        rcvNxt = seqAdd(rcvNxt, buffer.store(rcvNxt, seq, data.subarray(i * 100, i * 100 + 100)))
      }
      const withdraw = () => {
        if (lent !== undefined) buffer.withdraw(lent === "new" ? undefined : lent)
        lent = undefined
      }
      for (const [piece, action, size] of steps) {
        arrive(piece % 40)
        if (action === 0 && lent === undefined) {
          const into = new Uint8Array(size)
          if (buffer.lend(into)) lent = into
        } else if (action === 1 && lent instanceof Uint8Array) {
          read(lent)
        } else if (action === 2) {
          withdraw()
        } else if (action === 3 && lent === undefined) {
          if (buffer.lendNew(size)) lent = "new"
        } else if (action === 4 && lent === "new") {
          const taken = buffer.takeNew()
          if (taken !== undefined) {
            out.push(taken.slice())
            lent = undefined
          }
        } else {
          read(new Uint8Array(size)) // another reader: nothing while a lent buffer holds bytes, which come first
        }
      }
      withdraw()
      for (let i = 0; i < 40; i++) arrive(i)
      for (let n = read(new Uint8Array(333)); n > 0; n = read(new Uint8Array(333)));
      expect(Buffer.concat(out).equals(Buffer.from(data.subarray(0, seqDiff(rcvNxt, start))))).toBe(true)
      expect(buffer.readable).toBe(0)
    },
  )

  it("a buffer made for a reader is sized by the reads before: twice the last, at least the segment, at most the loan's size", () => {
    const buffer = new ReceiveBuffer(65536, 8)
    const data = pattern(20000, 7)
    let seq = 0
    const arrive = (n: number) => {
      expect(buffer.store(seq, seq, data.subarray(seq, seq + n))).toBe(n)
      seq += n
    }
    expect(buffer.lendNew(4096)).toBe(true)
    expect(buffer.takeNew()).toBeUndefined() // nothing came yet
    arrive(100)
    arrive(100) // the made buffer (100 bytes: no read before) is full: into the ring
    expect(buffer.window).toBe(65536 - 100)
    const first = buffer.takeNew()!
    expect(first).toEqual(data.subarray(0, 100))
    expect(first.buffer.byteLength).toBe(100)
    const rest = new Uint8Array(1000)
    expect(buffer.readInto(rest)).toBe(100)
    const sizes: Array<number> = []
    for (let i = 0; i < 4; i++) {
      expect(buffer.lendNew(4096)).toBe(true)
      const from = seq
      while (seq - from < 5000 && buffer.window === 65536) arrive(1000) // a bulk read: more than the buffer holds
      const bulk = buffer.takeNew()!
      expect(bulk).toEqual(data.subarray(from, from + bulk.length))
      sizes.push(bulk.buffer.byteLength)
      const overflow = new Uint8Array(5000)
      const n = buffer.readInto(overflow)
      expect(overflow.subarray(0, n)).toEqual(data.subarray(from + bulk.length, seq))
    }
    expect(sizes).toEqual([1000, 2000, 4000, 4096])
    expect(buffer.lendNew(4096)).toBe(true)
    arrive(300)
    const short = buffer.takeNew()!
    expect(short.buffer.byteLength).toBe(300) // a short read in a big buffer is copied out, not keeping it alive
    expect(buffer.lendNew(4096)).toBe(true)
    arrive(500)
    buffer.withdraw() // the reader stopped waiting: its bytes stay readable
    const last = new Uint8Array(2000)
    expect(buffer.readInto(last)).toBe(500)
    expect(last.subarray(0, 500)).toEqual(data.subarray(seq - 500, seq))
  })

  it("a lent buffer takes in-order bytes without narrowing the window; what it cannot hold goes to the ring", () => {
    const buffer = new ReceiveBuffer(4096, 8)
    const data = pattern(1200, 5)
    const lent = new Uint8Array(1000)
    expect(buffer.lend(lent)).toBe(true)
    expect(buffer.lend(new Uint8Array(10))).toBe(false) // one lent buffer at a time
    expect(buffer.readInto(lent)).toBe(0) // nothing yet: stays lent
    for (let i = 0; i < 3; i++) expect(buffer.store(i * 400, i * 400, data.subarray(i * 400, i * 400 + 400))).toBe(400)
    expect(buffer.readable).toBe(1200)
    expect(buffer.window).toBe(4096 - 200) // only the 200 bytes past the lent buffer's room take the window
    expect(buffer.readInto(new Uint8Array(500))).toBe(0) // another reader waits: the lent bytes come first
    expect(buffer.readInto(lent)).toBe(1000)
    expect(lent).toEqual(data.subarray(0, 1000))
    const rest = new Uint8Array(500)
    expect(buffer.readInto(rest)).toBe(200)
    expect(rest.subarray(0, 200)).toEqual(data.subarray(1000))
    expect(buffer.window).toBe(4096)
  })

  it("a withdrawn buffer's bytes stay readable, before later ones, and the buffer is no longer written", () => {
    const buffer = new ReceiveBuffer(4096, 8)
    const data = pattern(500, 6)
    const lent = new Uint8Array(1000)
    expect(buffer.lend(lent)).toBe(true)
    expect(buffer.store(0, 0, data.subarray(0, 300))).toBe(300)
    buffer.withdraw(lent)
    expect(buffer.lend(new Uint8Array(1000))).toBe(false) // bytes wait: read them first
    expect(buffer.store(300, 300, data.subarray(300))).toBe(200)
    expect(lent.subarray(300, 500)).toEqual(new Uint8Array(200)) // into the ring, not the withdrawn buffer
    const into = new Uint8Array(100)
    const out: Array<Uint8Array> = []
    for (let n = buffer.readInto(into); n > 0; n = buffer.readInto(into)) out.push(into.slice(0, n))
    expect(Buffer.concat(out)).toEqual(Buffer.from(data))
  })

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
