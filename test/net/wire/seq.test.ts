import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Seq from "../../../src/net/wire/seq.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import { u32 } from "./vectors.ts"

const delta = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 })

describe("TCP sequence arithmetic", () => {
  it("wraps around 2^32", () => {
    expect(Seq.seqAdd(0xffffffff, 1)).toBe(0)
    expect(Seq.seqAdd(0, -1)).toBe(0xffffffff)
    expect(Seq.seqDiff(5, 0xfffffffb)).toBe(10)
    expect(Seq.seqDiff(0xfffffffb, 5)).toBe(-10)
    expect(Seq.seqLt(0xfffffff0, 5)).toBe(true)
    expect(Seq.seqGt(5, 0xfffffff0)).toBe(true)
    expect(Seq.seqLeq(7, 7)).toBe(true)
    expect(Seq.seqGeq(7, 7)).toBe(true)
    expect(Seq.seqLt(7, 7)).toBe(false)
    expect(Seq.seqMax(0xfffffff0, 5)).toBe(5)
    expect(Seq.seqMin(0xfffffff0, 5)).toBe(0xfffffff0)
    expect(Seq.seqInWindow(2, 0xfffffffe, 10)).toBe(true)
    expect(Seq.seqInWindow(8, 0xfffffffe, 10)).toBe(false)
    expect(Seq.seqInWindow(0xfffffffd, 0xfffffffe, 10)).toBe(false)
    expect(Tcp.seqLt).toBe(Seq.seqLt)
  })

  it("is consistent for distances below 2^31", () => {
    fc.assert(
      fc.property(u32, delta, (a, d) => {
        const b = Seq.seqAdd(a, d)
        expect(b >>> 0).toBe(b)
        expect(Seq.seqDiff(b, a)).toBe(d)
        expect(Seq.seqLt(a, b)).toBe(d > 0)
        expect(Seq.seqLeq(a, b)).toBe(d >= 0)
        expect(Seq.seqGt(a, b)).toBe(d < 0)
        expect(Seq.seqGeq(a, b)).toBe(d <= 0)
        expect(Seq.seqMax(a, b)).toBe(d >= 0 ? b : a)
        expect(Seq.seqInWindow(b, a, 2 ** 31)).toBe(d >= 0)
      }),
    )
  })
})
