/**
 * Software TCP segmentation, what Linux calls GSO: TCP hands IPv4 one
 * packet of up to 64 KiB, as it would to a NIC with TCP segmentation
 * offload, and the packet is cut into wire-sized segments here, just before
 * the device. A burst of segments then costs one pass through the TCP
 * engine instead of one per segment, and the link still sees ordinary
 * MTU-sized frames, each with its own IPv4 identification and complete
 * checksums.
 *
 * The cut follows the rules of TCP segmentation offload (as Linux's
 * `tcp_gso_segment` and virtio's GSO_TCPV4 do): every segment repeats the
 * header and its options; sequence numbers advance by the data before it;
 * FIN and PSH stay on the last segment and CWR on the first only.
 */
import type { Mac } from "../wire/addr.ts"
import { put32 } from "../wire/bytes.ts"
import { checksum, pseudoHeaderSum } from "../wire/checksum.ts"
import * as Ethernet from "../wire/ethernet.ts"
import * as Ipv4Wire from "../wire/ipv4.ts"
import * as Tcp from "../wire/tcp.ts"
import type { FramePool } from "../FramePool.ts"
import { ethernetHeader } from "./packetize.ts"

/** Where the TCP header starts in a frame. */
const TCP_START = Ethernet.HEADER_LENGTH + Ipv4Wire.MIN_HEADER_LENGTH

/** Offsets in a TCP header. */
const SEQUENCE = 4
const DATA_OFFSET = 12
const FLAGS = 13
const CHECKSUM = 16

/**
 * The frames of the TCP packet `header` whose segment (TCP header, then
 * data; checksum not needed) is `segment[0..header.payloadLength]`, from
 * `mac` on a link of `mtu`: each segment carries as much data as fits the
 * MTU with the header, in a buffer of its own from `buffers`;
 * `identification` gives each its IPv4 identification. Undefined when the
 * bytes do not begin with a TCP header that leaves room for data in the MTU
 * (the packet is then not a segment to cut).
 */
export const segmentTcp = (
  buffers: Pick<FramePool, "take">,
  mac: Mac,
  mtu: number,
  header: Ipv4Wire.Header,
  segment: Uint8Array,
  identification: () => number,
): Array<Uint8Array> | undefined => {
  const headerLength = (segment[DATA_OFFSET]! >>> 4) * 4
  const dataLength = header.payloadLength - headerLength
  const perSegment = mtu - Ipv4Wire.MIN_HEADER_LENGTH - headerLength
  if (!(perSegment > 0 && headerLength >= Tcp.MIN_HEADER_LENGTH && dataLength >= 0)) return undefined
  const flags = segment[FLAGS]!
  const firstSequence = ((segment[SEQUENCE]! << 24) | (segment[SEQUENCE + 1]! << 16) | (segment[SEQUENCE + 2]! << 8) | segment[SEQUENCE + 3]!) >>> 0
  const frames: Array<Uint8Array> = []
  // One header object for all the segments, its two changing fields set for each.
  const ip: { -readonly [K in keyof Ipv4Wire.Header]: Ipv4Wire.Header[K] } = { ...header }
  for (let offset = 0; ; offset += perSegment) {
    const length = Math.min(perSegment, dataLength - offset)
    const last = offset + length >= dataLength
    const frame = buffers.take(TCP_START + headerLength + length)
    for (let i = 0; i < headerLength; i++) frame[TCP_START + i] = segment[i]!
    frame.set(segment.subarray(headerLength + offset, headerLength + offset + length), TCP_START + headerLength)
    put32(frame, TCP_START + SEQUENCE, (firstSequence + offset) >>> 0)
    frame[TCP_START + FLAGS] = flags & ~(last ? 0 : Tcp.Flags.FIN | Tcp.Flags.PSH) & ~(offset === 0 ? 0 : Tcp.Flags.CWR)
    frame[TCP_START + CHECKSUM] = 0
    frame[TCP_START + CHECKSUM + 1] = 0
    const tcpLength = headerLength + length
    const sum = checksum(frame, TCP_START, TCP_START + tcpLength, pseudoHeaderSum(header.source, header.destination, Tcp.PROTOCOL, tcpLength))
    frame[TCP_START + CHECKSUM] = sum >>> 8
    frame[TCP_START + CHECKSUM + 1] = sum
    ip.identification = identification()
    ip.payloadLength = tcpLength
    Ipv4Wire.emit(ip, frame, Ethernet.HEADER_LENGTH)
    ethernetHeader(frame, mac)
    frames.push(frame)
    if (last) break
  }
  return frames
}
