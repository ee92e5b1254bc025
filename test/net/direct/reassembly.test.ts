/** IPv4 reassembly: any order, duplicates, overlaps, limits and timeouts; fragment → shuffle → reassemble. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Reassembly } from "../../../src/net/engine/reassembly.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import type { Packet } from "../../../src/net/wire/ipv4.ts"

const SOURCE = ipv4(10, 0, 0, 3)
const DESTINATION = ipv4(10, 0, 0, 2)

/** The packet of `data` at byte `offset` of datagram `id`, MF as `more`. */
const piece = (id: number, offset: number, data: Uint8Array, more: boolean): Packet => {
  const bytes = new Uint8Array(20 + data.length)
  bytes.set(data, 20)
  Ipv4Wire.emitFragment(
    { identification: id, ttl: 64, protocol: 17, source: SOURCE, destination: DESTINATION, payloadLength: 0 },
    { offset, length: data.length, more },
    bytes,
  )
  return Ipv4Wire.parse(bytes) as Packet
}

/** `payload` fragmented for `mtu`, as parsed packets. */
const fragment = (payload: Uint8Array, mtu: number, id = 1): Array<Packet> =>
  Ipv4Wire.fragments(payload.length, mtu).map((p) => piece(id, p.offset, payload.subarray(p.offset, p.offset + p.length), p.more))

const add = (r: Reassembly, packet: Packet, now = 0) => r.add(packet, new Uint8Array(20), now)

const data = (length: number, seed = 1) => Uint8Array.from({ length }, (_, i) => (i * seed + 3) & 0xff)

describe("IPv4 reassembly", () => {
  it("fragment → shuffle → reassemble gives the original (property)", () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 6000 }),
      fc.integer({ min: 2, max: 16 }),
      fc.infiniteStream(fc.nat()),
      (payload, count, randoms) => {
        const pieces = fragment(payload, 20 + Math.ceil(payload.length / count / 8) * 8)
        expect(pieces.length).toBeGreaterThan(1)
        expect(pieces.length).toBeLessThanOrEqual(16)
        const order = pieces.map((p) => ({ p, key: randoms.next().value as number })).sort((a, b) => a.key - b.key)
        const r = new Reassembly()
        const results = order.map(({ p }) => add(r, p))
        expect(results.slice(0, -1).every((x) => x === undefined)).toBe(true)
        expect(results.at(-1)?.payload).toEqual(payload)
        expect([r.size, r.bytes]).toEqual([0, 0])
      },
    ), { numRuns: 200 })
  })

  it("ignores exact duplicates but drops the whole datagram on any other overlap", () => {
    const r = new Reassembly()
    expect(add(r, piece(1, 0, data(16), true))).toBeUndefined()
    expect(add(r, piece(1, 0, data(16), true))).toBeUndefined()
    expect(r.stats.duplicates).toBe(1)
    expect(add(r, piece(1, 8, data(16), true))).toBeUndefined() // overlaps [8, 16)
    expect(r.stats.overlaps).toBe(1)
    expect(r.size).toBe(0)
    // The rest of the datagram no longer completes anything.
    expect(add(r, piece(1, 16, data(8), false))).toBeUndefined()
    expect(r.size).toBe(1)
  })

  it("drops inconsistent ends, malformed pieces and datagrams of more than 16 fragments", () => {
    const r = new Reassembly()
    add(r, piece(2, 0, data(8), true))
    add(r, piece(2, 24, data(8), false))
    expect(add(r, piece(2, 32, data(8), true))).toBeUndefined() // beyond the known end
    expect(r.stats.overlaps).toBe(1)
    expect(add(r, piece(3, 0, data(12), true))).toBeUndefined() // MF piece not a multiple of 8
    expect(r.stats.malformed).toBe(1)
    for (let i = 0; i < 16; i++) add(r, piece(4, i * 8, data(8), true))
    expect(add(r, piece(4, 128, data(8), false))).toBeUndefined()
    expect(r.stats.tooManyFragments).toBe(1)
    const ok = new Reassembly()
    for (let i = 0; i < 15; i++) add(ok, piece(5, i * 8, data(8), true))
    expect(add(ok, piece(5, 120, data(8), false))?.payload.length).toBe(128)
  })

  it("abandons a datagram 10 s after its first fragment", () => {
    const r = new Reassembly()
    add(r, piece(1, 0, data(8), true), 1000)
    add(r, piece(1, 16, data(8), false), 5000)
    expect(r.nextDeadline()).toBe(11_000)
    r.expire(10_999)
    expect(r.size).toBe(1)
    r.expire(11_000)
    expect([r.size, r.stats.timedOut, r.nextDeadline()]).toEqual([0, 1, undefined])
    expect(add(r, piece(1, 8, data(8), true), 11_001)).toBeUndefined() // the late middle piece starts over
  })

  it("stays within its memory and datagram bounds by evicting the oldest", () => {
    const r = new Reassembly({ maxBytes: 4096, maxDatagrams: 3 })
    for (let id = 1; id <= 5; id++) add(r, piece(id, 0, data(1024), true))
    expect(r.size).toBe(3)
    expect(r.stats.evicted).toBe(2)
    add(r, piece(5, 1024, data(1024), true))
    add(r, piece(5, 2048, data(1024), true))
    expect(r.bytes).toBeLessThanOrEqual(4096)
    const done = add(r, piece(5, 3072, data(8), false))
    expect(done?.payload.length).toBe(3080)
    expect(r.size).toBe(0)
  })
})
