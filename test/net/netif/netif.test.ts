import { describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { formatMac, frameSizeProblem, parseMac, randomMac } from "../../../src/net/Netif.ts"
import { mulberry32 } from "../../../src/net/NetifSwitch.ts"

describe("Netif helpers", () => {
  it("formats and parses MACs", () => {
    const mac = Uint8Array.of(0x02, 0x00, 0x5e, 0x10, 0xab, 0xff)
    expect(formatMac(mac)).toBe("02:00:5e:10:ab:ff")
    expect(parseMac("02:00:5E:10:AB:FF")).toEqual(mac)
    expect(parseMac("02-00-5e-10-ab-ff")).toEqual(mac)
    expect(parseMac("02:00:5e:10:ab")).toBeUndefined()
    expect(parseMac("02:00:5e:10:ab:fg")).toBeUndefined()
  })

  it.effect("random MACs are unicast, locally administered, and reproducible with a seed", () =>
    Effect.gen(function* () {
      const macs = yield* Effect.forEach(Array.from({ length: 50 }), () => randomMac)
      for (const mac of macs) expect(mac[0]! & 0x03).toBe(0x02)
      expect(new Set(macs.map(formatMac)).size).toBe(50)
      const a = yield* randomMac.pipe(Random.withSeed("euk"))
      const b = yield* randomMac.pipe(Random.withSeed("euk"))
      expect(a).toEqual(b)
    }))

  it("checks frame sizes against the MTU", () => {
    expect(frameSizeProblem(new Uint8Array(1514), 1500)).toBeUndefined()
    expect(frameSizeProblem(new Uint8Array(1515), 1500)).toContain("exceeds MTU 1500")
    expect(frameSizeProblem(new Uint8Array(13), 1500)).toContain("shorter than an Ethernet header")
  })

  it("mulberry32 is deterministic per seed and roughly uniform", () => {
    const draw = (seed: number) => Array.from({ length: 10_000 }, mulberry32(seed))
    expect(draw(1)).toEqual(draw(1))
    expect(draw(1)).not.toEqual(draw(2))
    const values = draw(3)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02)
  })
})
