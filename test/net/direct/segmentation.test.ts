/** Software TCP segmentation (GSO): TCP packets over the MTU cut into wire segments just before the device. */
import { fc } from "@fast-check/vitest"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseIpv4Config } from "../../../src/net/direct/Config.ts"
import { Ipv4Engine } from "../../../src/net/engine/ipv4.ts"
import type { Ipv4EngineOptions } from "../../../src/net/engine/ipv4.ts"
import { segmentTcp } from "../../../src/net/engine/segmentation.ts"
import { FramePool } from "../../../src/net/FramePool.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { engineBeside } from "./engine.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"

const US = ipv4(10, 0, 0, 2)
const HOST = ipv4(10, 0, 0, 3)
const MAC = 0x02000000000a

/** A TCP segment (header with `options`, timestamps by default, then `data`) as TCP hands it to IPv4, its checksum left out. */
const tcpSegment = (
  data: Uint8Array,
  flags: number,
  sequenceNumber = 0xfffff000,
  options: Tcp.OptionsInit = { timestamps: { tsVal: 123456, tsEcr: 654321 } },
) => {
  const header: Tcp.Header = {
    sourcePort: 5000,
    destinationPort: 80,
    sequenceNumber,
    acknowledgmentNumber: 77,
    flags,
    window: 512,
    options,
    payloadLength: data.length,
  }
  const headerLength = Tcp.headerLength(header.options)
  const bytes = new Uint8Array(headerLength + data.length)
  bytes.set(data, headerLength)
  Tcp.emit(header, bytes, 0, US, HOST, false)
  return bytes
}

/** Each frame's IPv4 packet and TCP segment, both checksums verified. */
const parsed = (frames: ReadonlyArray<Uint8Array>) =>
  frames.map((frame) => {
    const packet = Ipv4Wire.parse(frame.subarray(Ethernet.HEADER_LENGTH))
    if (packet._tag === "Rejected") throw new Error(`bad IPv4 packet: ${packet.reason}`)
    const segment = Tcp.parse(packet.payload, packet.source, packet.destination)
    if (segment._tag === "Rejected") throw new Error(`bad TCP segment: ${segment.reason}`)
    return { frame, packet, segment }
  })

const ipHeader = (payloadLength: number): Ipv4Wire.Header => ({
  identification: 900,
  ttl: 64,
  protocol: Tcp.PROTOCOL,
  source: US,
  destination: HOST,
  payloadLength,
  dontFragment: true,
  ecn: Ipv4Wire.Ecn.Ect0,
})

describe("segmentTcp", () => {
  it("cuts a packet into MTU-sized segments with the header repeated, sequence numbers advanced and both checksums complete", () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff)
    const whole = tcpSegment(data, Flags.ACK | Flags.PSH | Flags.FIN | Flags.CWR | Flags.ECE)
    let id = 900
    const frames = segmentTcp(new FramePool(), MAC, 1500, ipHeader(whole.length), whole, () => id++)!
    const pieces = parsed(frames)
    const perSegment = 1500 - 20 - 32
    expect(pieces.map((p) => p.segment.payload.length)).toEqual([perSegment, perSegment, perSegment, 5000 - 3 * perSegment])
    expect(Math.max(...frames.map((f) => f.length))).toBe(Ethernet.HEADER_LENGTH + 1500)
    expect(pieces.map((p) => p.packet.identification)).toEqual([900, 901, 902, 903])
    expect(pieces.every((p) => p.packet.dontFragment && p.packet.ecn === Ipv4Wire.Ecn.Ect0)).toBe(true)
    // The sequence space wraps inside this burst.
    expect(pieces.map((p) => p.segment.sequenceNumber)).toEqual([0, 1, 2, 3].map((k) => (0xfffff000 + k * perSegment) >>> 0))
    expect(pieces.map((p) => Tcp.formatFlags(p.segment.flags))).toEqual(["ACK|ECE|CWR", "ACK|ECE", "ACK|ECE", "FIN|PSH|ACK|ECE"])
    expect(pieces.every((p) => p.segment.options.timestamps?.tsVal === 123456 && p.segment.acknowledgmentNumber === 77)).toBe(true)
    const joined = new Uint8Array(5000)
    let at = 0
    for (const p of pieces) {
      joined.set(p.segment.payload, at)
      at += p.segment.payload.length
    }
    expect(joined).toEqual(data)
  })

  it("gives back the packet's data, in order, in frames that fit the MTU, whatever the sizes, options and flags (property)", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 65_535 - 20 - 60 - 40 }),
      fc.integer({ min: 576, max: 9000 }),
      fc.constantFrom<Tcp.OptionsInit>({}, { timestamps: { tsVal: 1, tsEcr: 2 } }, { timestamps: { tsVal: 3, tsEcr: 4 }, sack: [{ left: 10, right: 20 }, { left: 30, right: 40 }, { left: 50, right: 60 }] }),
      fc.integer({ min: 0, max: 0xff }),
      fc.nat(),
      (length, mtu, options, flags, sequenceNumber) => {
        const data = Uint8Array.from({ length }, (_, i) => (i * 13 + length) & 0xff)
        const whole = tcpSegment(data, flags | Flags.ACK, sequenceNumber >>> 0, options)
        const frames = segmentTcp(new FramePool(), MAC, mtu, ipHeader(whole.length), whole, () => 1)!
        const pieces = parsed(frames)
        expect(frames.every((f) => f.length <= Ethernet.HEADER_LENGTH + mtu)).toBe(true)
        expect(Buffer.concat(pieces.map((p) => p.segment.payload))).toEqual(Buffer.from(data))
        let expected = sequenceNumber >>> 0
        for (const p of pieces) {
          expect(p.segment.sequenceNumber).toBe(expected)
          expected = (expected + p.segment.payload.length) >>> 0
        }
        // What only the burst's end or start may carry is there once, where it belongs.
        const last = pieces.length - 1
        expect(pieces.map((p, i) => (p.segment.flags & (Flags.FIN | Flags.PSH)) === (i === last ? flags & (Flags.FIN | Flags.PSH) : 0))).not.toContain(false)
        expect(pieces.map((p, i) => (p.segment.flags & Flags.CWR) === (i === 0 ? flags & Flags.CWR : 0))).not.toContain(false)
      },
    ), { numRuns: 200, seed: 7 })
  })

  it("sends an exact multiple of the segment size as whole segments, with no empty one after", () => {
    const whole = tcpSegment(new Uint8Array(2 * 1448).fill(7), Flags.ACK)
    const frames = segmentTcp(new FramePool(), MAC, 1500, ipHeader(whole.length), whole, () => 1)!
    expect(parsed(frames).map((p) => p.segment.payload.length)).toEqual([1448, 1448])
  })

  it("declines bytes that do not begin with a TCP header leaving room in the MTU", () => {
    expect(segmentTcp(new FramePool(), MAC, 1500, ipHeader(3000), new Uint8Array(3000), () => 1)).toBeUndefined()
    const whole = tcpSegment(new Uint8Array(100), Flags.ACK)
    expect(segmentTcp(new FramePool(), MAC, 32, ipHeader(whole.length), whole, () => 1)).toBeUndefined()
  })
})

describe("the IPv4 engine with software segmentation", () => {
  const make = (options: Partial<Ipv4EngineOptions> = {}) => engineBeside(HOST, options)
  const send = (engine: Ipv4Engine, whole: Uint8Array) => {
    engine.sender.send(HOST, Tcp.PROTOCOL, whole.length, (buffer, offset) => buffer.set(whole, offset))
    return engine.takeOutput()
  }

  it("offers TCP 64 KiB packets when the link does not segment, and cuts them with distinct identifications", () => {
    const engine = make()
    expect(engine.sender.maxOffloadSegment).toBe(Ipv4Wire.MAX_PACKET_LENGTH - 20)
    const frames = send(engine, tcpSegment(new Uint8Array(10_000).fill(3), Flags.ACK | Flags.PSH))
    const pieces = parsed(frames)
    expect(pieces).toHaveLength(7)
    expect(new Set(pieces.map((p) => p.packet.identification)).size).toBe(7)
    expect(pieces.every((p) => p.packet.dontFragment)).toBe(true)
    expect(engine.stats).toMatchObject({ packetsSent: 1, segmentsCut: 7, fragmentsSent: 0 })
  })

  it("takes an identification for each segment a link that segments itself may cut, so the next packet repeats none", () => {
    const engine = make({ tcpSegmentation: 65_535 })
    const identifications = [10_000, 10_000, 100, 100].map((size) => {
      const frames = send(engine, tcpSegment(new Uint8Array(size), Flags.ACK))
      expect(frames).toHaveLength(1) // the link cuts it
      const packet = Ipv4Wire.parse(frames[0]!.subarray(Ethernet.HEADER_LENGTH))
      return packet._tag === "Ipv4Packet" ? packet.identification : -1
    })
    const steps = identifications.slice(1).map((id, i) => (id - identifications[i]!) & 0xffff)
    // 10 000 bytes after a 32-byte header: 7 segments of 1448 at MTU 1500 (numbered on from the packet's).
    expect(steps[0]).toBeGreaterThanOrEqual(7)
    expect(steps[1]).toBeGreaterThanOrEqual(7)
    expect(steps[2]).toBe(1)
  })

  it("leaves the cutting to a link that segments itself, and sends one segment at a time when turned off", () => {
    expect(make({ tcpSegmentation: 30_000 }).sender.maxOffloadSegment).toBe(30_000 - 20)
    const off = make({ softwareSegmentation: false })
    expect(off.sender.maxOffloadSegment).toBe(1480)
    // Handed an oversized packet anyway, it fragments it (no Don't Fragment) rather than cutting it.
    const frames = send(off, tcpSegment(new Uint8Array(3000), Flags.ACK))
    expect(frames.map((f) => Ipv4Wire.parse(f.subarray(Ethernet.HEADER_LENGTH))).map((p) => p._tag === "Ipv4Packet" && p.moreFragments)).toEqual([true, true, false])
    expect(off.stats).toMatchObject({ segmentsCut: 0, fragmentsSent: 3 })
  })

  it("refuses a software segmentation setting that is not a boolean, naming it", () => {
    const refused = Effect.runSync(Effect.flip(parseIpv4Config({ cidr: "10.0.0.2/24", softwareSegmentation: 1 as unknown as boolean })))
    expect(refused.reason).toContain("softwareSegmentation=1")
    expect(Effect.runSync(parseIpv4Config({ cidr: "10.0.0.2/24" })).softwareSegmentation).toBe(true)
  })
})
