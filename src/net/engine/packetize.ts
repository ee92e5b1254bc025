/**
 * IPv4 output: one packet as Ethernet frames ready to send but for their
 * destination MAC (left zero for ARP to fill in), fragmented for the MTU
 * when the payload does not fit (RFC 791 §2.3, with `wire/ipv4`'s plan).
 */
import type { Ipv4, Mac } from "../wire/addr.ts"
import { MAC_ZERO } from "../wire/addr.ts"
import * as Ethernet from "../wire/ethernet.ts"
import * as Ipv4Wire from "../wire/ipv4.ts"
import type { FramePool } from "../FramePool.ts"

/**
 * Writes a transport payload at `buffer[offset]`, given the source address it
 * travels from; `deviceChecksums`: the device completes the TCP or UDP
 * checksum of this packet (`Netif.checksumOffload`, and the packet is not
 * fragmented), so the writer need not compute it.
 */
export type PayloadWriter = (buffer: Uint8Array, offset: number, source: Ipv4, deviceChecksums: boolean) => void

const FRAME_HEADERS = Ethernet.HEADER_LENGTH + Ipv4Wire.MIN_HEADER_LENGTH

/** Writes the Ethernet header of an IPv4 frame from `mac`, its destination left zero for ARP to fill in. */
export const ethernetHeader = (frame: Uint8Array, mac: Mac): void => {
  Ethernet.emit({ destination: MAC_ZERO, source: mac, etherType: Ethernet.EtherType.Ipv4 }, frame, 0)
}

/**
 * The frames of the packet `header` (its `payloadLength` bytes written by
 * `write`) from `mac` on a link of `mtu` (the largest IPv4 packet): one frame
 * when it fits, else one per fragment, each a buffer of its own from `buffers`.
 * `deviceChecksums`: the device completes the transport checksums of whole
 * packets (fragments never: their checksum covers the whole datagram).
 */
export const packetize = (
  buffers: Pick<FramePool, "take">,
  mac: Mac,
  mtu: number,
  deviceChecksums: boolean,
  header: Ipv4Wire.Header,
  write: PayloadWriter,
): ReadonlyArray<Uint8Array> => {
  const length = header.payloadLength
  if (Ipv4Wire.MIN_HEADER_LENGTH + length <= mtu) {
    const frame = buffers.take(FRAME_HEADERS + length)
    write(frame, FRAME_HEADERS, header.source, deviceChecksums)
    Ipv4Wire.emit(header, frame, Ethernet.HEADER_LENGTH)
    ethernetHeader(frame, mac)
    return [frame]
  }
  const payload = new Uint8Array(length)
  write(payload, 0, header.source, false)
  return Ipv4Wire.fragments(length, mtu).map((piece) => {
    const frame = buffers.take(FRAME_HEADERS + piece.length)
    frame.set(payload.subarray(piece.offset, piece.offset + piece.length), FRAME_HEADERS)
    Ipv4Wire.emitFragment(header, piece, frame, Ethernet.HEADER_LENGTH)
    ethernetHeader(frame, mac)
    return frame
  })
}
