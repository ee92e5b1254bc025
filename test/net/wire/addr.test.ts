import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Addr from "../../../src/net/wire/addr.ts"
import { ipv4, mac } from "./vectors.ts"

describe("MAC addresses", () => {
  it("parses and formats", () => {
    expect(Addr.parseMac("02:00:00:00:00:01")).toBe(0x020000000001)
    expect(Addr.parseMac("FF-FF-FF-FF-FF-FF")).toBe(Addr.MAC_BROADCAST)
    expect(Addr.parseMac("52:54:00:aB:cD:eF")).toBe(0x525400abcdef)
    expect(Addr.formatMac(0x020000000001)).toBe("02:00:00:00:00:01")
    expect(Addr.formatMac(Addr.MAC_BROADCAST)).toBe("ff:ff:ff:ff:ff:ff")
    expect(Addr.formatMac(0)).toBe("00:00:00:00:00:00")
  })

  it("rejects invalid text with a typed rejection", () => {
    for (const bad of ["", "02:00:00:00:00", "02:00:00:00:00:01:02", "2:0:0:0:0:1", "02:00-00:00:00:01", "0g:00:00:00:00:01", " 02:00:00:00:00:01", "02:00:00:00:00:01\n"]) {
      expect(Addr.parseMac(bad)).toEqual({ _tag: "Rejected", layer: "mac-address", reason: "syntax" })
    }
  })

  it("round-trips text and bytes", () => {
    fc.assert(
      fc.property(mac, (m) => {
        expect(Addr.parseMac(Addr.formatMac(m))).toBe(m)
        const bytes = Addr.macToBytes(m)
        expect(Addr.readMac(bytes, 0)).toBe(m)
        const buffer = new Uint8Array(20).subarray(3)
        Addr.writeMac(m, buffer, 5)
        expect(Addr.readMac(buffer, 5)).toBe(m)
      }),
    )
  })

  it("classifies", () => {
    expect(Addr.isBroadcastMac(Addr.MAC_BROADCAST)).toBe(true)
    expect(Addr.isMulticastMac(Addr.MAC_BROADCAST)).toBe(true)
    expect(Addr.isMulticastMac(0x01005e0000fb)).toBe(true)
    expect(Addr.isMulticastMac(0x020000000001)).toBe(false)
    expect(Addr.isUnicastMac(0x525400123456)).toBe(true)
    expect(Addr.isLocalMac(0x020000000001)).toBe(true)
    expect(Addr.isLocalMac(0x525400123456)).toBe(true)
    expect(Addr.isLocalMac(0x001122334455)).toBe(false)
    expect(Addr.isMac(2 ** 48)).toBe(false)
    expect(Addr.isMac(-1)).toBe(false)
    expect(Addr.isMac(1.5)).toBe(false)
  })
})

describe("IPv4 addresses", () => {
  it("parses and formats", () => {
    expect(Addr.parseIpv4("10.0.0.2")).toBe(0x0a000002)
    expect(Addr.parseIpv4("255.255.255.255")).toBe(0xffffffff)
    expect(Addr.parseIpv4("0.0.0.0")).toBe(0)
    expect(Addr.parseIpv4("192.168.1.200")).toBe(0xc0a801c8)
    expect(Addr.formatIpv4(0xc0a801c8)).toBe("192.168.1.200")
    expect(Addr.formatIpv4(0xffffffff)).toBe("255.255.255.255")
    expect(Addr.ipv4(10, 0, 0, 2)).toBe(0x0a000002)
    expect(Addr.ipv4(255, 255, 255, 255)).toBe(Addr.IPV4_BROADCAST)
  })

  it("rejects invalid text with a typed rejection", () => {
    for (const bad of ["", "10.0.0", "10.0.0.2.1", "256.0.0.1", "10.0.0.-1", "010.0.0.1", "10.0.0.1 ", "a.b.c.d", "1e1.0.0.1", "10..0.1", "1000.0.0.1", "0x0a.0.0.1"]) {
      expect(Addr.parseIpv4(bad)).toEqual({ _tag: "Rejected", layer: "ipv4-address", reason: "syntax" })
    }
  })

  it("round-trips text and bytes", () => {
    fc.assert(
      fc.property(ipv4, (a) => {
        expect(Addr.parseIpv4(Addr.formatIpv4(a))).toBe(a)
        const buffer = new Uint8Array(16).subarray(1)
        Addr.writeIpv4(a, buffer, 3)
        expect(Addr.readIpv4(buffer, 3)).toBe(a)
      }),
    )
  })

  it("classifies", () => {
    expect(Addr.isMulticastIpv4(Addr.ipv4(224, 0, 0, 251))).toBe(true)
    expect(Addr.isMulticastIpv4(Addr.ipv4(239, 255, 255, 255))).toBe(true)
    expect(Addr.isMulticastIpv4(Addr.ipv4(240, 0, 0, 1))).toBe(false)
    expect(Addr.isLoopbackIpv4(Addr.IPV4_LOCALHOST)).toBe(true)
    expect(Addr.isLinkLocalIpv4(Addr.ipv4(169, 254, 3, 4))).toBe(true)
    expect(Addr.isBroadcastIpv4(0xffffffff)).toBe(true)
    expect(Addr.isUnspecifiedIpv4(0)).toBe(true)
    expect(Addr.isIpv4(2 ** 32)).toBe(false)
    expect(Addr.isIpv4(-1)).toBe(false)
  })
})

describe("IPv4 CIDR prefixes", () => {
  it("parses 10.0.0.2/24", () => {
    expect(Addr.parseCidr("10.0.0.2/24")).toEqual({
      _tag: "Ipv4Cidr",
      address: 0x0a000002,
      prefixLength: 24,
      netmask: 0xffffff00,
      network: 0x0a000000,
      broadcast: 0x0a0000ff,
    })
  })

  it("handles /0, /31 and /32", () => {
    const all = Addr.parseCidr("192.168.1.1/0")
    expect(all).toMatchObject({ netmask: 0, network: 0, broadcast: 0xffffffff })
    const host = Addr.parseCidr("192.168.1.1/32")
    expect(host).toMatchObject({ netmask: 0xffffffff, network: 0xc0a80101, broadcast: 0xc0a80101 })
    const pair = Addr.parseCidr("192.168.1.1/31")
    expect(pair).toMatchObject({ netmask: 0xfffffffe, network: 0xc0a80100, broadcast: 0xc0a80101 })
  })

  it("rejects invalid text with a typed rejection", () => {
    const reject = (reason: string) => ({ _tag: "Rejected", layer: "ipv4-cidr", reason })
    expect(Addr.parseCidr("10.0.0.2")).toEqual(reject("syntax"))
    expect(Addr.parseCidr("10.0.0.2/")).toEqual(reject("syntax"))
    expect(Addr.parseCidr("10.0.0.2/024")).toEqual(reject("syntax"))
    expect(Addr.parseCidr("10.0.0.2/33")).toEqual(reject("bad-prefix-length"))
    expect(Addr.parseCidr("10.0.0.2/99")).toEqual(reject("bad-prefix-length"))
    expect(Addr.parseCidr("10.0.0.256/24")).toEqual(reject("bad-address"))
    expect(Addr.makeCidr(0x0a000002, 33)).toEqual(reject("bad-prefix-length"))
    expect(Addr.makeCidr(2 ** 32, 8)).toEqual(reject("bad-address"))
  })

  it("round-trips and tests membership", () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), ipv4, (address, prefixLength, other) => {
        const cidr = Addr.makeCidr(address, prefixLength)
        if (cidr._tag === "Rejected") throw new Error("unexpected rejection")
        expect(Addr.parseCidr(Addr.formatCidr(cidr))).toEqual(cidr)
        expect(Addr.inSubnet(cidr, address)).toBe(true)
        expect(Addr.inSubnet(cidr, cidr.network)).toBe(true)
        expect(Addr.inSubnet(cidr, cidr.broadcast)).toBe(true)
        const expected = prefixLength === 0 || other >>> (32 - prefixLength) === address >>> (32 - prefixLength)
        expect(Addr.inSubnet(cidr, other)).toBe(expected)
        expect(Addr.prefixLengthOf(cidr.netmask)).toBe(prefixLength)
      }),
    )
  })

  it("netmask and prefixLengthOf", () => {
    expect(Addr.netmask(0)).toBe(0)
    expect(Addr.netmask(8)).toBe(0xff000000)
    expect(Addr.netmask(32)).toBe(0xffffffff)
    expect(Addr.prefixLengthOf(0xffff0000)).toBe(16)
    expect(Addr.prefixLengthOf(0xff00ff00)).toBeUndefined()
    expect(Addr.prefixLengthOf(0x00ffffff)).toBeUndefined()
  })
})
