/**
 * UDP datagrams (RFC 768) over IPv4.
 *
 * The checksum covers the IPv4 pseudo-header, the UDP header and the data, so
 * `parse` and `emit` take the source and destination IPv4 addresses. On IPv4 a
 * checksum field of 0 means "no checksum" and is accepted; a computed checksum
 * of 0 is transmitted as 0xffff.
 *
 * The length field must be at least 8 and fit in the input; bytes beyond it
 * are ignored.
 */
import type { Ipv4 } from "./addr.ts"
import { check16, check32, checkMax, ensureRoom, put16, u16 } from "./bytes.ts"
import { checksum as internetChecksum, pseudoHeaderSum, verify } from "./checksum.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

/** Source port (2) + destination port (2) + length (2) + checksum (2). */
export const HEADER_LENGTH = 8

/** IPv4 protocol number of UDP. */
export const PROTOCOL = 17

/** A parsed UDP datagram; `payload` is a view into the input. */
export interface Datagram {
  readonly _tag: "UdpDatagram"
  readonly sourcePort: number
  readonly destinationPort: number
  /** The length field: header and data. */
  readonly length: number
  /** 0 when the sender sent no checksum. */
  readonly checksum: number
  readonly payload: Uint8Array
}

/** What `emit` writes. */
export interface Header {
  readonly sourcePort: number
  readonly destinationPort: number
  /** Bytes of data following the header. */
  readonly payloadLength: number
}

export type Reason = "truncated" | "bad-length" | "bad-checksum"
export type Rejected = R<"udp", Reason>

const rejected = rejections("udp", ["truncated", "bad-length", "bad-checksum"])

/**
 * Parse a UDP datagram carried in an IPv4 packet from `source` to
 * `destination`, verifying its checksum unless it is 0 (none). Pass
 * `verifyChecksum = false` only when the device has already verified it.
 */
export const parse = (
  bytes: Uint8Array,
  source: Ipv4,
  destination: Ipv4,
  verifyChecksum = true,
): Datagram | Rejected => {
  if (bytes.length < HEADER_LENGTH) return rejected.truncated
  const length = u16(bytes, 4)
  if (length < HEADER_LENGTH) return rejected["bad-length"]
  if (length > bytes.length) return rejected.truncated
  const checksum = u16(bytes, 6)
  if (verifyChecksum && checksum !== 0 && !verify(bytes, 0, length, pseudoHeaderSum(source, destination, PROTOCOL, length))) {
    return rejected["bad-checksum"]
  }
  return {
    _tag: "UdpDatagram",
    sourcePort: u16(bytes, 0),
    destinationPort: u16(bytes, 2),
    length,
    checksum,
    payload: bytes.subarray(HEADER_LENGTH, length),
  }
}

/**
 * Write the 8-byte header at `buffer[offset]` and its checksum over the
 * pseudo-header (`source`, `destination`), the header and the `payloadLength`
 * bytes of data, which must already be in place right after the header.
 * With `computeChecksum = false` the checksum field is 0 ("none", or left to
 * a device that offloads it). Returns the header length (8). Throws
 * `RangeError` on a field out of range or a buffer too small for the datagram.
 */
export const emit = (
  header: Header,
  buffer: Uint8Array,
  offset: number,
  source: Ipv4,
  destination: Ipv4,
  computeChecksum = true,
): number => {
  const length = HEADER_LENGTH + header.payloadLength
  // One inline test on the fast path; the slow path says which field is wrong.
  const valid = (header.sourcePort & 0xffff) === header.sourcePort &&
    (header.destinationPort & 0xffff) === header.destinationPort && (length & 0xffff) === length &&
    length >= HEADER_LENGTH && source >>> 0 === source && destination >>> 0 === destination &&
    offset >>> 0 === offset && offset + length <= buffer.length
  if (!valid) {
    check16(header.sourcePort, "udp source port")
    check16(header.destinationPort, "udp destination port")
    checkMax(header.payloadLength, 0xffff - HEADER_LENGTH, "udp payload length")
    check32(source, "udp pseudo-header source")
    check32(destination, "udp pseudo-header destination")
    ensureRoom(buffer, offset, length, "udp.emit")
  }
  put16(buffer, offset, header.sourcePort)
  put16(buffer, offset + 2, header.destinationPort)
  put16(buffer, offset + 4, length)
  put16(buffer, offset + 6, 0)
  if (computeChecksum) {
    const checksum = internetChecksum(buffer, offset, offset + length, pseudoHeaderSum(source, destination, PROTOCOL, length))
    put16(buffer, offset + 6, checksum === 0 ? 0xffff : checksum) // 0 means "no checksum" (RFC 768)
  }
  return HEADER_LENGTH
}

/** The header length (always 8). */
export const headerLength = (): number => HEADER_LENGTH

/** Bytes needed for a datagram carrying `payloadLength` bytes. */
export const bufferLength = (payloadLength: number): number => HEADER_LENGTH + payloadLength
