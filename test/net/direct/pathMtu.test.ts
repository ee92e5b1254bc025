/** Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), and how the IPv4 engine uses them. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseIpv4Config } from "../../../src/net/direct/Config.ts"
import { Ipv4Engine } from "../../../src/net/engine/ipv4.ts"
import { announcedMtu, MIN_PATH_MTU, PATH_MTU_LIFETIME_MS, PathMtus } from "../../../src/net/engine/pathMtu.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { engineBeside, ENGINE_MAC, NEIGHBOUR_MAC } from "./engine.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Icmpv4 from "../../../src/net/wire/icmpv4.ts"
import { UnreachableCode } from "../../../src/net/wire/icmpv4.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"

const HOST = ipv4(10, 0, 0, 3)
const OTHER = ipv4(10, 0, 0, 4)

describe("path MTUs", () => {
  it("take the router's next-hop MTU, or RFC 1191's plateau below the packet when it gives none or a bogus one", () => {
    expect(announcedMtu(1280, 1500)).toBe(1280)
    expect(announcedMtu(0, 1500)).toBe(1492)
    expect(announcedMtu(0, 1492)).toBe(1006)
    expect(announcedMtu(1500, 1500)).toBe(1492) // the packet would have fit: not believed
    expect(announcedMtu(0, 69)).toBe(68)
  })

  it("only fall, never below the floor, per destination, and are forgotten after ten minutes", () => {
    const paths = new PathMtus(1500)
    expect(paths.get(HOST, 0)).toBe(1500)
    expect(paths.reduce(HOST, 1280, 0)).toBe(1280)
    expect(paths.reduce(HOST, 1400, 0)).toBe(1280) // a larger one is no news
    expect(paths.reduce(HOST, 9000, 0)).toBe(1280)
    expect(paths.reduce(HOST, 68, 0)).toBe(MIN_PATH_MTU)
    expect(paths.get(OTHER, 0)).toBe(1500)
    expect(paths.get(HOST, PATH_MTU_LIFETIME_MS - 1)).toBe(MIN_PATH_MTU)
    expect(paths.get(HOST, PATH_MTU_LIFETIME_MS)).toBe(1500)
  })

  it("keep at most 1024 destinations, dropping the oldest", () => {
    const paths = new PathMtus(1500)
    for (let i = 0; i <= 1024; i++) paths.reduce(ipv4(10, 1, i >> 8, i & 0xff), 1000, 0)
    expect(paths.get(ipv4(10, 1, 0, 0), 0)).toBe(1500)
    expect(paths.get(ipv4(10, 1, 0, 1), 0)).toBe(1000)
    expect(paths.get(ipv4(10, 1, 4, 0), 0)).toBe(1000)
  })
})

describe("the IPv4 engine and path MTU discovery", () => {
  const make = (pathMtuDiscovery?: boolean) => engineBeside(HOST, pathMtuDiscovery === undefined ? {} : { pathMtuDiscovery })
  const sent = (engine: Ipv4Engine, protocol: number, length: number) => {
    engine.sender.send(HOST, protocol, length, (buffer, offset) => buffer.fill(1, offset, offset + length))
    return engine.takeOutput().map((frame) => Ipv4Wire.parse(frame.subarray(Ethernet.HEADER_LENGTH)) as Ipv4Wire.Packet)
  }

  it("sends TCP packets that fit the link with Don't Fragment, and UDP and oversized packets without", () => {
    const engine = make()
    expect(sent(engine, Ipv4Wire.Protocol.Tcp, 1480).map((p) => p.dontFragment)).toEqual([true])
    expect(sent(engine, Ipv4Wire.Protocol.Udp, 1000).map((p) => p.dontFragment)).toEqual([false])
    expect(sent(engine, Ipv4Wire.Protocol.Tcp, 3000).map((p) => p.dontFragment)).toEqual([false, false, false])
    expect(sent(make(false), Ipv4Wire.Protocol.Tcp, 1480).map((p) => p.dontFragment)).toEqual([false])
  })

  it("hands a fragmentation needed to the transport with the MTU it announces, and learns nothing by itself", () => {
    const engine = make()
    const told: Array<[number, number]> = []
    engine.register({ protocol: Ipv4Wire.Protocol.Tcp, input: () => {}, icmpUnreachable: (_s, _d, _q, code, _r, _n, mtu) => told.push([code, mtu]) })
    const [packet] = sent(engine, Ipv4Wire.Protocol.Tcp, 1480)
    const tooBig = (nextHopMtu: number) => {
      const quote = new Uint8Array(28)
      Ipv4Wire.emit({ identification: packet!.identification, ttl: 64, protocol: 6, source: packet!.source, destination: HOST, payloadLength: 1480, dontFragment: true }, quote, 0)
      const frame = new Uint8Array(34 + 8 + quote.length)
      Ethernet.emit({ destination: ENGINE_MAC, source: NEIGHBOUR_MAC, etherType: Ethernet.EtherType.Ipv4 }, frame)
      frame.set(quote, 34 + 8)
      Icmpv4.emit({ _tag: "Icmpv4DestinationUnreachable", type: Icmpv4.Type.DestinationUnreachable, code: UnreachableCode.FragmentationNeeded, nextHopMtu, payloadLength: quote.length }, frame, 34)
      Ipv4Wire.emit({ identification: 1, ttl: 64, protocol: 1, source: HOST, destination: packet!.source, payloadLength: 8 + quote.length }, frame, 14)
      return frame
    }
    engine.receive([tooBig(1280)])
    engine.receive([tooBig(0)])
    expect(told).toEqual([[UnreachableCode.FragmentationNeeded, 1280], [UnreachableCode.FragmentationNeeded, 1492]])
    expect(engine.sender.pathMtu(HOST)).toBe(1500) // the transport checks the quoted segment before believing it
  })

  it("refuses a path MTU discovery setting that is not a boolean, naming it", () => {
    const refused = Effect.runSync(Effect.flip(parseIpv4Config({ cidr: "10.0.0.2/24", pathMtuDiscovery: "no" as unknown as boolean })))
    expect(refused.reason).toContain("pathMtuDiscovery=no")
    expect(Effect.runSync(parseIpv4Config({ cidr: "10.0.0.2/24" })).pathMtuDiscovery).toBe(true)
  })
})
