import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Arp from "../../../src/net/wire/arp.ts"
import { bufferFor, hex, ipv4, mac, placement, u16 } from "./vectors.ts"

describe("ARP", () => {
  it("round-trips random packets at any byteOffset and offset", () => {
    fc.assert(
      fc.property(
        fc.record({ operation: u16, senderMac: mac, senderIp: ipv4, targetMac: mac, targetIp: ipv4 }),
        placement,
        (header, p) => {
          const buffer = bufferFor(p, Arp.PACKET_LENGTH)
          expect(Arp.emit(header, buffer, p.offset)).toBe(Arp.PACKET_LENGTH)
          // Trailing bytes (Ethernet padding) are ignored.
          const parsed = Arp.parse(buffer.subarray(p.offset))
          expect(parsed).toEqual({ _tag: "ArpPacket", ...header })
        },
      ),
    )
  })

  it("rejects truncated packets and other hardware or protocol types", () => {
    const good = hex("0001080006040002 020000000001 0a000002 525400123456 0a000001")
    expect(Arp.parse(good)).toMatchObject({ _tag: "ArpPacket", operation: Arp.Operation.Reply })
    for (let n = 0; n < good.length; n++) {
      expect(Arp.parse(good.subarray(0, n))).toMatchObject({ _tag: "Rejected", layer: "arp", reason: "truncated" })
    }
    const bad = (i: number, v: number) => {
      const copy = good.slice()
      copy[i] = v
      return Arp.parse(copy)
    }
    expect(bad(1, 6)).toMatchObject({ reason: "unsupported-hardware" }) // IEEE 802
    expect(bad(4, 8)).toMatchObject({ reason: "unsupported-hardware" })
    expect(bad(2, 0x86)).toMatchObject({ reason: "unsupported-protocol" })
    expect(bad(5, 16)).toMatchObject({ reason: "unsupported-protocol" })
  })

  it("emit refuses a buffer too small", () => {
    const header = { operation: 1, senderMac: 1, senderIp: 2, targetMac: 0, targetIp: 3 }
    expect(() => Arp.emit(header, new Uint8Array(27))).toThrow(RangeError)
    expect(() => Arp.emit({ ...header, senderIp: -1 }, new Uint8Array(28))).toThrow(RangeError)
  })
})
