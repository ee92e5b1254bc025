import { describe, expect, it } from "vitest"
import { Identification } from "../../../src/net/engine/identification.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { prng } from "../tcp/sim.ts"

const US = ipv4(10, 0, 0, 2)
const PEER = ipv4(10, 0, 0, 1)
const TCP = 6

/** A generator keyed from a seeded source. */
const generator = (seed: number) => {
  const random = prng(seed)
  return new Identification(() => Math.floor(random() * 2 ** 32))
}

describe("IPv4 identification (RFC 7739 hash-based)", () => {
  it("gives one destination 65536 distinct values in a row, as reassembly needs", () => {
    const ids = generator(1)
    const seen = new Set<number>()
    for (let i = 0; i < 65536; i++) seen.add(ids.next(US, PEER, TCP))
    expect(seen.size).toBe(65536)
  })

  it("lets what goes to other hosts leave a destination's sequence alone (no idle-scan side channel)", () => {
    const ids = generator(2)
    const before = ids.next(US, PEER, TCP)
    for (let host = 0; host < 1000; host++) ids.next(US, ipv4(192, 0, 2 + (host >> 8), host & 0xff), TCP)
    const after = ids.next(US, PEER, TCP)
    // A global counter would have moved by 1001; only the other hosts that share this host's bucket (about 1000/2048) count.
    expect((after - before) & 0xffff).toBeLessThan(8)
  })

  it("starts each destination somewhere an off-path host cannot guess", () => {
    const a = generator(3)
    const b = generator(4)
    const firsts = [PEER, ipv4(10, 0, 0, 3), ipv4(10, 0, 0, 4)].map((host) => [a.next(US, host, TCP), b.next(US, host, TCP)])
    for (const [x, y] of firsts) expect(x).not.toBe(y)
    // Nor are one generator's destinations a run of neighbours.
    const spread = firsts.map(([x]) => x!)
    expect(Math.abs(spread[0]! - spread[1]!)).toBeGreaterThan(1)
  })
})
