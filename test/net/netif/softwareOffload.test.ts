/**
 * The addon's own offload (`offload: "software"`), against the stack's
 * software segmentation: TCP frames over the MTU reach the kernel exactly
 * as `segmentTcp` cuts them (identifications numbered on from the frame's,
 * as Linux's GSO numbers them), and TCP and UDP frames within the MTU with
 * their checksums completed, whatever the checksum field held. Random
 * frames (fixed seed) for three MTUs, each written through a TAP in a
 * throw-away namespace and captured on the kernel's side of it. Skipped,
 * with the reason printed, without root, /dev/net/tun or the addon.
 */
import { fc } from "@fast-check/vitest"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { segmentTcp } from "../../../src/net/engine/segmentation.ts"
import { FramePool } from "../../../src/net/FramePool.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"
import * as Udp from "../../../src/net/wire/udp.ts"
import { kernelSkipReason, scratchNamespace } from "./netns.ts"

const reason = kernelSkipReason()
if (reason !== undefined) console.log(`skipping the addon's software offload tests: ${reason}`)

const US = ipv4(10, 0, 0, 2)
const HOST = ipv4(10, 0, 0, 3)
const ETHERNET = Uint8Array.of(2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 2, 0x08, 0x00)

/** One frame to write: TCP (`data`, `flags`, `options`) or UDP, with IPv4 fields of its own. */
interface Case {
  readonly udp: boolean
  readonly length: number
  readonly flags: number
  readonly sequenceNumber: number
  readonly options: Tcp.OptionsInit
  readonly identification: number
  readonly dontFragment: boolean
  readonly ecn: number
}

const cases = (maxLength: number, seed: number): Array<Case> =>
  fc.sample(fc.record({
    udp: fc.boolean(),
    length: fc.oneof(fc.integer({ min: 0, max: 1600 }), fc.integer({ min: 0, max: maxLength })),
    flags: fc.integer({ min: 0, max: 0xff }),
    sequenceNumber: fc.nat(),
    options: fc.constantFrom<Tcp.OptionsInit>({}, { timestamps: { tsVal: 1, tsEcr: 2 } }, { timestamps: { tsVal: 3, tsEcr: 4 }, sack: [{ left: 10, right: 20 }, { left: 30, right: 40 }] }),
    identification: fc.integer({ min: 0, max: 0xffff }),
    dontFragment: fc.boolean(),
    ecn: fc.integer({ min: 0, max: 3 }),
  }), { numRuns: 40, seed })

/** The IPv4 packet of `c` with its transport checksum right. */
const packetOf = (c: Case): Uint8Array => {
  const data = Uint8Array.from({ length: c.length }, (_, i) => (i * 7 + c.length) & 0xff)
  const transportLength = c.udp ? Udp.HEADER_LENGTH + c.length : Tcp.headerLength(c.options) + c.length
  const packet = new Uint8Array(Ipv4Wire.MIN_HEADER_LENGTH + transportLength)
  packet.set(data, packet.length - c.length)
  const header = { identification: c.identification, ttl: 64, protocol: c.udp ? Udp.PROTOCOL : Tcp.PROTOCOL, source: US, destination: HOST, payloadLength: transportLength, dontFragment: c.dontFragment, ecn: c.ecn }
  Ipv4Wire.emit(header, packet, 0)
  if (c.udp) Udp.emit({ sourcePort: 5353, destinationPort: 53, payloadLength: c.length }, packet, Ipv4Wire.MIN_HEADER_LENGTH, US, HOST)
  else {
    const tcp = { sourcePort: 5000, destinationPort: 80, sequenceNumber: c.sequenceNumber, acknowledgmentNumber: 77, flags: c.flags | Tcp.Flags.ACK, window: 512, options: c.options, payloadLength: c.length }
    Tcp.emit(tcp, packet, Ipv4Wire.MIN_HEADER_LENGTH, US, HOST)
  }
  return packet
}

/** The frame the stack hands the device for `packet`: the transport checksum field garbage, as offload allows. */
const frameToWrite = (packet: Uint8Array, udp: boolean): Uint8Array => {
  const frame = new Uint8Array(ETHERNET.length + packet.length)
  frame.set(ETHERNET)
  frame.set(packet, ETHERNET.length)
  const field = ETHERNET.length + Ipv4Wire.MIN_HEADER_LENGTH + (udp ? 6 : 16)
  frame[field] = 0xde
  frame[field + 1] = 0xad
  return frame
}

/** What the kernel must receive for `packet` on a link of `mtu`: the IPv4 packets, as hex. */
const expected = (packet: Uint8Array, udp: boolean, mtu: number): Array<string> => {
  if (udp || packet.length <= mtu) return [Buffer.from(packet).toString("hex")]
  const parsed = Ipv4Wire.parse(packet)
  if (parsed._tag === "Rejected") throw new Error(parsed.reason)
  let identification = parsed.identification
  const frames = segmentTcp(new FramePool(), 0x020000000002, mtu, { ...parsed, payloadLength: parsed.payload.length }, parsed.payload, () => identification++ & 0xffff)!
  return frames.map((frame) => Buffer.from(frame.subarray(ETHERNET.length)).toString("hex"))
}

describe.skipIf(reason !== undefined)("tap.node software offload (root, network namespace)", () => {
  it.live.each([576, 1500, 9000])("cuts and sums exactly as the stack's software segmentation would (MTU %i)", (mtu) =>
    Effect.gen(function* () {
      const { ns, ifname } = yield* scratchNamespace
      const written = cases(mtu === 576 ? 24_000 : 65_535 - 20 - 20 - 40, mtu)
      const packets = written.map(packetOf)
      const fixture = join(import.meta.dirname, "fixtures", "software-offload.ts")
      const run = spawnSync("ip", ["netns", "exec", ns, process.execPath, fixture, ifname, String(mtu)], {
        input: JSON.stringify(packets.map((p, i) => Buffer.from(frameToWrite(p, written[i]!.udp)).toString("hex"))),
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      })
      expect(run.stderr).toBe("")
      const received = (JSON.parse(run.stdout) as Array<string>).map((hex) => hex.slice(2 * ETHERNET.length))
      const wanted = packets.flatMap((p, i) => expected(p, written[i]!.udp, mtu))
      expect(wanted.length).toBeGreaterThan(packets.length) // some were cut
      expect(received.length).toBe(wanted.length)
      for (let i = 0; i < wanted.length; i++) expect(received[i]).toBe(wanted[i])
    }).pipe(Effect.scoped), 60_000)
})
