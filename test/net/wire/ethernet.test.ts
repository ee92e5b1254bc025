import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import { bufferFor, hex, mac, placement, sameMemory, u16 } from "./vectors.ts"

describe("Ethernet II", () => {
  it("round-trips random headers at any byteOffset and offset, payload not copied", () => {
    fc.assert(
      fc.property(
        fc.record({ destination: mac, source: mac, etherType: fc.integer({ min: 0x0600, max: 0xffff }) }),
        fc.uint8Array({ maxLength: 100 }),
        placement,
        (header, payload, p) => {
          const buffer = bufferFor(p, Ethernet.bufferLength(payload.length))
          expect(Ethernet.emit(header, buffer, p.offset)).toBe(Ethernet.HEADER_LENGTH)
          buffer.set(payload, p.offset + Ethernet.HEADER_LENGTH)
          const frame = buffer.subarray(p.offset, p.offset + Ethernet.bufferLength(payload.length))
          const parsed = Ethernet.parse(frame)
          if (parsed._tag === "Rejected") throw new Error(parsed.reason)
          expect(parsed).toMatchObject(header)
          expect(parsed.payload).toEqual(payload)
          expect(sameMemory(parsed.payload, frame, Ethernet.HEADER_LENGTH)).toBe(true)
        },
      ),
    )
  })

  it("rejects short frames and 802.3 length fields", () => {
    for (let n = 0; n < 14; n++) {
      expect(Ethernet.parse(new Uint8Array(n))).toMatchObject({ _tag: "Rejected", layer: "ethernet", reason: "truncated" })
    }
    expect(Ethernet.parse(hex("ffffffffffff020000000001 05dc"))).toMatchObject({ reason: "not-ethernet-ii" })
    expect(Ethernet.parse(hex("ffffffffffff020000000001 0600"))).toMatchObject({ _tag: "EthernetFrame", etherType: 0x0600 })
  })

  it("check and the header readers agree with parse on any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const parsed = Ethernet.parse(bytes)
        const problem = Ethernet.check(bytes)
        if (parsed._tag === "Rejected") {
          expect(problem).toBe(parsed)
          return
        }
        expect(problem).toBeUndefined()
        expect(Ethernet.destinationOf(bytes)).toBe(parsed.destination)
        expect(Ethernet.etherTypeOf(bytes)).toBe(parsed.etherType)
      }),
    )
  })

  it("emit refuses a buffer too small or fields out of range", () => {
    const header = { destination: 1, source: 2, etherType: Ethernet.EtherType.Ipv4 }
    expect(() => Ethernet.emit(header, new Uint8Array(13))).toThrow(RangeError)
    expect(() => Ethernet.emit(header, new Uint8Array(20), 7)).toThrow(RangeError)
    expect(() => Ethernet.emit({ ...header, destination: 2 ** 48 }, new Uint8Array(14))).toThrow(RangeError)
    expect(() => Ethernet.emit({ ...header, etherType: 0x10000 }, new Uint8Array(14))).toThrow(RangeError)
    fc.assert(fc.property(u16, (t) => {
      expect(Ethernet.emit({ ...header, etherType: t }, new Uint8Array(14))).toBe(14)
    }))
  })
})
