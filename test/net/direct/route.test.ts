/** Routing decisions of a one-interface host. */
import { describe, expect, it } from "vitest"
import { accepts, route } from "../../../src/net/engine/route.ts"
import { ipv4, parseCidr } from "../../../src/net/wire/addr.ts"
import type { Ipv4Cidr } from "../../../src/net/wire/addr.ts"

const cidr = parseCidr("10.0.0.2/24") as Ipv4Cidr
const withGateway = { cidr, gateway: ipv4(10, 0, 0, 1) }
const without = { cidr, gateway: undefined }

describe("routing", () => {
  it("on-link destinations resolve themselves, others the gateway", () => {
    expect(route(withGateway, ipv4(10, 0, 0, 7))).toEqual({ _tag: "Resolve", nextHop: ipv4(10, 0, 0, 7) })
    expect(route(withGateway, ipv4(8, 8, 8, 8))).toEqual({ _tag: "Resolve", nextHop: ipv4(10, 0, 0, 1) })
    expect(route(without, ipv4(8, 8, 8, 8))._tag).toBe("NoRoute")
  })

  it("broadcasts go to the Ethernet broadcast; loopback, ourselves and multicast nowhere", () => {
    expect(route(without, ipv4(10, 0, 0, 255))).toEqual({ _tag: "Link", mac: 0xffffffffffff })
    expect(route(without, 0xffffffff)).toEqual({ _tag: "Link", mac: 0xffffffffffff })
    for (const address of [ipv4(127, 0, 0, 1), ipv4(10, 0, 0, 2), ipv4(224, 0, 0, 1), 0]) {
      expect(route(withGateway, address)._tag).toBe("NoRoute")
    }
  })

  it("accepts our address and the link's broadcasts only", () => {
    expect([ipv4(10, 0, 0, 2), ipv4(10, 0, 0, 255), 0xffffffff].map((a) => accepts(without, a))).toEqual([true, true, true])
    expect([ipv4(10, 0, 0, 3), ipv4(10, 0, 1, 255)].map((a) => accepts(without, a))).toEqual([false, false])
    const point = { cidr: parseCidr("10.0.0.2/31") as Ipv4Cidr, gateway: undefined }
    expect(accepts(point, ipv4(10, 0, 0, 3))).toBe(false) // /31 has no directed broadcast (RFC 3021)
  })
})
