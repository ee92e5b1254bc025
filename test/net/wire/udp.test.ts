import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Checksum from "../../../src/net/wire/checksum.ts"
import * as Udp from "../../../src/net/wire/udp.ts"
import { bufferFor, ipv4, placement, sameMemory, u16 } from "./vectors.ts"

const SRC = 0x0a000001
const DST = 0x0a000002

const datagram = (payload: Uint8Array, src = SRC, dst = DST): Uint8Array => {
  const bytes = new Uint8Array(8 + payload.length)
  bytes.set(payload, 8)
  Udp.emit({ sourcePort: 40000, destinationPort: 53, payloadLength: payload.length }, bytes, 0, src, dst)
  return bytes
}

describe("UDP", () => {
  it("round-trips random datagrams at any byteOffset and offset", () => {
    fc.assert(
      fc.property(u16, u16, ipv4, ipv4, fc.uint8Array({ maxLength: 200 }), placement, (sp, dp, src, dst, payload, p) => {
        const buffer = bufferFor(p, Udp.bufferLength(payload.length))
        buffer.set(payload, p.offset + 8)
        const header = { sourcePort: sp, destinationPort: dp, payloadLength: payload.length }
        expect(Udp.emit(header, buffer, p.offset, src, dst)).toBe(8)
        // Trailing bytes beyond the length field are ignored.
        const bytes = buffer.subarray(p.offset)
        const parsed = Udp.parse(bytes, src, dst)
        if (parsed._tag === "Rejected") throw new Error(parsed.reason)
        expect(parsed).toMatchObject({ sourcePort: sp, destinationPort: dp, length: 8 + payload.length })
        expect(parsed.checksum).not.toBe(0)
        expect(parsed.payload).toEqual(payload)
        expect(sameMemory(parsed.payload, bytes, 8)).toBe(true)
        const pseudo = Checksum.pseudoHeaderSum(src, dst, 17, 8 + payload.length)
        expect(Checksum.verify(bytes, 0, 8 + payload.length, pseudo)).toBe(true)
      }),
    )
  })

  it("verifies the pseudo-header: other addresses fail", () => {
    const bytes = datagram(new TextEncoder().encode("hello"))
    expect(Udp.parse(bytes, SRC, DST)._tag).toBe("UdpDatagram")
    expect(Udp.parse(bytes, SRC, DST + 1)).toMatchObject({ _tag: "Rejected", layer: "udp", reason: "bad-checksum" })
    expect(Udp.parse(bytes, SRC, DST + 1, false)._tag).toBe("UdpDatagram")
  })

  it("accepts checksum 0 as none, and sends a computed 0 as 0xffff", () => {
    const garbage = datagram(new Uint8Array([1, 2, 3]))
    garbage[6] = 0
    garbage[7] = 0
    garbage[9]! ^= 0xff
    expect(Udp.parse(garbage, SRC, DST)).toMatchObject({ _tag: "UdpDatagram", checksum: 0 })
    // With data word w = ~S, where S is the sum with zero data, the checksum computes to 0.
    const probe = datagram(new Uint8Array(2))
    const c = (probe[6]! << 8) | probe[7]!
    const zero = datagram(new Uint8Array([c >>> 8, c & 0xff]))
    expect([zero[6], zero[7]]).toEqual([0xff, 0xff])
    expect(Udp.parse(zero, SRC, DST)).toMatchObject({ _tag: "UdpDatagram", checksum: 0xffff })
    const none = new Uint8Array(8)
    Udp.emit({ sourcePort: 1, destinationPort: 2, payloadLength: 0 }, none, 0, SRC, DST, false)
    expect(Udp.parse(none, SRC, DST)).toMatchObject({ checksum: 0, length: 8 })
  })

  it("rejects truncations, bad lengths and any single-bit error", () => {
    const bytes = datagram(new TextEncoder().encode("hello, mirage"))
    for (let n = 0; n < bytes.length; n++) {
      expect(Udp.parse(bytes.subarray(0, n), SRC, DST)).toMatchObject({ reason: "truncated" })
    }
    for (let length = 0; length < 8; length++) {
      const bad = bytes.slice()
      bad[4] = 0
      bad[5] = length
      expect(Udp.parse(bad, SRC, DST)).toMatchObject({ reason: "bad-length" })
    }
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const bad = bytes.slice()
      bad[bit >>> 3]! ^= 0x80 >>> (bit & 7)
      expect(Udp.parse(bad, SRC, DST)._tag).toBe("Rejected")
    }
  })

  it("emit refuses a buffer too small or fields out of range", () => {
    const h = { sourcePort: 1, destinationPort: 2, payloadLength: 10 }
    expect(() => Udp.emit(h, new Uint8Array(17), 0, SRC, DST)).toThrow(RangeError)
    expect(() => Udp.emit({ ...h, sourcePort: -1 }, new Uint8Array(18), 0, SRC, DST)).toThrow(RangeError)
    expect(() => Udp.emit({ ...h, payloadLength: 65528 }, new Uint8Array(70000), 0, SRC, DST)).toThrow(RangeError)
    expect(Udp.emit(h, new Uint8Array(18), 0, SRC, DST)).toBe(8)
  })
})
