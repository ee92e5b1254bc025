/**
 * Every frame the stack sends is written byte for byte: the frame pool hands
 * out reused memory holding older frames (src/net/FramePool.ts, not zeroed
 * for speed), so a field an emitter skipped would leak old bytes onto the
 * wire. Each kind of frame is built by `packetize` (and ARP's emitters) into
 * buffers pre-filled with 0x00, 0xa5 and 0xff; the three must be identical.
 */
import { describe, expect, it } from "vitest"
import { writeEcho, writeUnreachable } from "../../../src/net/engine/icmp.ts"
import type { PayloadWriter } from "../../../src/net/engine/packetize.ts"
import { packetize } from "../../../src/net/engine/packetize.ts"
import { writeReset } from "../../../src/net/engine/tcpReset.ts"
import { datagramLength, writeDatagram } from "../../../src/net/engine/udp.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import * as ArpWire from "../../../src/net/wire/arp.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"
import * as Tcp from "../../../src/net/wire/tcp.ts"

const MAC = 0x02000000000a
const US = ipv4(10, 0, 0, 2)
const PEER = ipv4(10, 0, 0, 3)
const FILLS = [0x00, 0xa5, 0xff] as const

/** Pseudo-random bytes, so that payload copies are checked too. */
const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 73 + 11) & 0xff)

/** The frames of one packet from `write`, built in buffers pre-filled with `fill`. */
const framesWith = (fill: number, protocol: number, length: number, write: PayloadWriter, mtu: number, deviceChecksums: boolean) =>
  packetize(
    { take: (size) => new Uint8Array(size).fill(fill) },
    MAC,
    mtu,
    deviceChecksums,
    { identification: 0x1234, ttl: 64, protocol, source: US, destination: PEER, payloadLength: length },
    write,
  )

/** A TCP segment writer as the engine's: the payload copied in, then the header emitted. */
const tcpSegment = (header: Tcp.Header, payload: Uint8Array): PayloadWriter => (buffer, offset, source, deviceChecksums) => {
  buffer.set(payload, offset + Tcp.headerLength(header.options))
  Tcp.emit(header, buffer, offset, source, PEER, !deviceChecksums)
}

const segment = (flags: number, options: Tcp.OptionsInit | undefined, payloadLength: number): Tcp.Header => ({
  sourcePort: 40000,
  destinationPort: 80,
  sequenceNumber: 0x89abcdef,
  acknowledgmentNumber: 0x01234567,
  flags,
  window: 0xfedc,
  ...(options === undefined ? {} : { options }),
  payloadLength,
})

const timestamps = { tsVal: 0x11223344, tsEcr: 0x55667788 }
const quote = bytes(28)

/** Each kind of IPv4 packet the stack sends: its protocol, payload length and writer. */
const packets: ReadonlyArray<readonly [string, number, number, PayloadWriter]> = [
  ["TCP SYN with every option", Tcp.PROTOCOL, Tcp.headerLength({ mss: 1460, windowScale: 7, sackPermitted: true, timestamps }),
    tcpSegment(segment(Tcp.Flags.SYN, { mss: 1460, windowScale: 7, sackPermitted: true, timestamps }, 0), new Uint8Array(0))],
  ["TCP SYN without timestamps (MSS, window scale)", Tcp.PROTOCOL, Tcp.headerLength({ mss: 536, windowScale: 0 }),
    tcpSegment(segment(Tcp.Flags.SYN, { mss: 536, windowScale: 0 }, 0), new Uint8Array(0))],
  ["TCP data with timestamps", Tcp.PROTOCOL, Tcp.headerLength({ timestamps }) + 1448,
    tcpSegment(segment(Tcp.Flags.ACK | Tcp.Flags.PSH, { timestamps }, 1448), bytes(1448))],
  ...[1, 2, 3].map((blocks) => {
    const options = { timestamps, sack: Array.from({ length: blocks }, (_, i) => ({ left: 1000 * i + 1, right: 1000 * i + 500 })) }
    return [`TCP ACK with ${blocks} SACK block(s)`, Tcp.PROTOCOL, Tcp.headerLength(options),
      tcpSegment(segment(Tcp.Flags.ACK, options, 0), new Uint8Array(0))] as const
  }),
  ["TCP data of odd length, no options", Tcp.PROTOCOL, 20 + 333, tcpSegment(segment(Tcp.Flags.ACK, undefined, 333), bytes(333))],
  ["TCP reset", Tcp.PROTOCOL, 20, writeReset(segment(Tcp.Flags.RST, undefined, 0), PEER)],
  ["UDP datagram", Ipv4Wire.Protocol.Udp, datagramLength(101), writeDatagram(5353, PEER, 53, bytes(101))],
  ["ICMP echo reply", Ipv4Wire.Protocol.Icmp, 8 + 56, (buffer, offset) => writeEcho(buffer, offset, 0, 7, 9, bytes(56))],
  ["ICMP port unreachable", Ipv4Wire.Protocol.Icmp, 8 + quote.length, (buffer, offset) => writeUnreachable(buffer, offset, 3, quote)],
]

describe("frames are written byte for byte, whatever the pool's memory held", () => {
  for (const [name, protocol, length, write] of packets) {
    for (const deviceChecksums of [false, true]) {
      it(`${name}${deviceChecksums ? ", checksums offloaded" : ""}`, () => {
        const [clean, ...dirty] = FILLS.map((fill) => framesWith(fill, protocol, length, write, 1500, deviceChecksums))
        expect(clean).toHaveLength(1)
        for (const frames of dirty) expect(frames).toEqual(clean)
      })
    }
  }

  it("fragments of a datagram too big for the MTU", () => {
    const [clean, ...dirty] = FILLS.map((fill) =>
      framesWith(fill, Ipv4Wire.Protocol.Udp, datagramLength(3001), writeDatagram(5353, PEER, 53, bytes(3001)), 576, false)
    )
    expect(clean!.length).toBeGreaterThan(5)
    for (const frames of dirty) expect(frames).toEqual(clean)
  })

  it("ARP requests and replies", () => {
    for (const operation of [ArpWire.Operation.Request, ArpWire.Operation.Reply]) {
      const [clean, ...dirty] = FILLS.map((fill) => {
        const frame = new Uint8Array(Ethernet.HEADER_LENGTH + ArpWire.PACKET_LENGTH).fill(fill)
        Ethernet.emit({ destination: 0xffffffffffff, source: MAC, etherType: Ethernet.EtherType.Arp }, frame, 0)
        ArpWire.emit({ operation, senderMac: MAC, senderIp: US, targetMac: 0, targetIp: PEER }, frame, Ethernet.HEADER_LENGTH)
        return frame
      })
      for (const frame of dirty) expect(frame).toEqual(clean)
    }
  })
})
