/**
 * IPv4 packets (RFC 791).
 *
 * `parse` checks, in order: at least 20 bytes, version 4, IHL ≥ 5, total length
 * within the input (trailing bytes, such as Ethernet padding, are ignored),
 * IHL within the total length, and the header checksum. Options are tolerated:
 * skipped and exposed as a view. The fragment offset is given in bytes.
 *
 * `emit` writes a 20-byte header without options and its checksum.
 * `fragments` plans how to split a payload for an MTU, and `emitFragment`
 * writes the header of one piece.
 */
import type { Ipv4 } from "./addr.ts"
import { readIpv4, writeIpv4 } from "./addr.ts"
import { check16, check32, check8, checkMax, ensureRoom, u16 } from "./bytes.ts"
import { fold, sum } from "./checksum.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

/** A header without options. */
export const MIN_HEADER_LENGTH = 20

/** IHL is 4 bits of 32-bit words: at most 60 bytes. */
export const MAX_HEADER_LENGTH = 60

/** The largest total length. */
export const MAX_PACKET_LENGTH = 0xffff

/** IP protocol numbers. */
export const Protocol = {
  Icmp: 1,
  Igmp: 2,
  Tcp: 6,
  Udp: 17,
} as const

/** ECN codepoints of the header's two ECN bits (RFC 3168 §5). */
export const Ecn = {
  NotEct: 0,
  Ect1: 1,
  Ect0: 2,
  /** Congestion Experienced: a router's mark on an ECN-capable packet. */
  Ce: 3,
} as const

/** The flag bits of the flags/fragment-offset word. */
export const Flags = {
  Reserved: 0x8000,
  DontFragment: 0x4000,
  MoreFragments: 0x2000,
} as const

/** A default TTL (RFC 1700 recommends 64). */
export const DEFAULT_TTL = 64

/** A parsed IPv4 packet. `options` and `payload` are views into the input. */
export interface Packet {
  readonly _tag: "Ipv4Packet"
  /** Header length in bytes (IHL × 4), options included. */
  readonly headerLength: number
  /** Differentiated services code point (6 bits). */
  readonly dscp: number
  /** Explicit congestion notification (2 bits). */
  readonly ecn: number
  readonly totalLength: number
  readonly identification: number
  readonly dontFragment: boolean
  readonly moreFragments: boolean
  /** Offset of this fragment's data in the original datagram, in bytes (a multiple of 8). */
  readonly fragmentOffset: number
  readonly ttl: number
  readonly protocol: number
  readonly checksum: number
  readonly source: Ipv4
  readonly destination: Ipv4
  /** The option bytes: a view into the input, or a shared empty array without options. */
  readonly options: Uint8Array
  /** The data: `totalLength - headerLength` bytes. */
  readonly payload: Uint8Array
}

/** What `emit` writes (a header without options). */
export interface Header {
  readonly dscp?: number
  readonly ecn?: number
  readonly identification: number
  readonly dontFragment?: boolean
  readonly moreFragments?: boolean
  /** In bytes; a multiple of 8. */
  readonly fragmentOffset?: number
  readonly ttl: number
  readonly protocol: number
  readonly source: Ipv4
  readonly destination: Ipv4
  /** Bytes of data following the header. */
  readonly payloadLength: number
}

export type Reason =
  | "truncated"
  | "bad-version"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-checksum"
export type Rejected = R<"ipv4", Reason>

const rejected = rejections("ipv4", [
  "truncated",
  "bad-version",
  "bad-header-length",
  "bad-total-length",
  "bad-checksum",
])

/** The options of a header without options (shared: saves a view per packet). */
const NO_OPTIONS = new Uint8Array(0)

/** The packet at `bytes[at]`, its header checked; `end`: where its payload ends in `bytes`. */
const view = (bytes: Uint8Array, at: number, headerLength: number, totalLength: number, end: number): Packet => {
  const flagsFragment = u16(bytes, at + 6)
  const tos = bytes[at + 1]!
  return {
    _tag: "Ipv4Packet",
    headerLength,
    dscp: tos >>> 2,
    ecn: tos & 3,
    totalLength,
    identification: u16(bytes, at + 4),
    dontFragment: (flagsFragment & Flags.DontFragment) !== 0,
    moreFragments: (flagsFragment & Flags.MoreFragments) !== 0,
    fragmentOffset: (flagsFragment & 0x1fff) * 8,
    ttl: bytes[at + 8]!,
    protocol: bytes[at + 9]!,
    checksum: u16(bytes, at + 10),
    source: readIpv4(bytes, at + 12),
    destination: readIpv4(bytes, at + 16),
    options: headerLength === MIN_HEADER_LENGTH ? NO_OPTIONS : bytes.subarray(at + MIN_HEADER_LENGTH, at + headerLength),
    payload: bytes.subarray(at + headerLength, end),
  }
}

/**
 * Why the bytes from `bytes[at]` (0 by default; 14 for the packet of an
 * Ethernet frame) are no IPv4 packet, or undefined when they are one, its
 * header checksum verified unless `verifyChecksum` is false (only when the
 * device has already verified it). After undefined, the readers below
 * (`headerLengthOf`…) read its header without allocating (for a receive
 * path).
 */
export const check = (bytes: Uint8Array, verifyChecksum = true, at = 0): Rejected | undefined => {
  if (bytes.length - at < MIN_HEADER_LENGTH) return rejected.truncated
  const versionIhl = bytes[at]!
  if (versionIhl >>> 4 !== 4) return rejected["bad-version"]
  const headerLength = (versionIhl & 0xf) * 4
  if (headerLength < MIN_HEADER_LENGTH) return rejected["bad-header-length"]
  const totalLength = u16(bytes, at + 2)
  if (totalLength > bytes.length - at) return rejected.truncated
  if (totalLength < headerLength) return rejected["bad-total-length"]
  if (verifyChecksum && sum(bytes, at, at + headerLength) !== 0xffff) return rejected["bad-checksum"]
  return undefined
}

/** The header length (options included) of the packet at `bytes[at]` that passed `check`. */
export const headerLengthOf = (bytes: Uint8Array, at: number): number => (bytes[at]! & 0xf) * 4

/** The total length of the packet at `bytes[at]` that passed `check`: its data ends at `at` plus this. */
export const totalLengthOf = (bytes: Uint8Array, at: number): number => u16(bytes, at + 2)

/** The protocol number of the packet at `bytes[at]` that passed `check`. */
export const protocolOf = (bytes: Uint8Array, at: number): number => bytes[at + 9]!

/** The source address of the packet at `bytes[at]` that passed `check`. */
export const sourceOf = (bytes: Uint8Array, at: number): Ipv4 => readIpv4(bytes, at + 12)

/** The destination address of the packet at `bytes[at]` that passed `check`. */
export const destinationOf = (bytes: Uint8Array, at: number): Ipv4 => readIpv4(bytes, at + 16)

/** Whether the packet at `bytes[at]` that passed `check` is a fragment (more fragments follow, or its offset is not 0). */
export const isFragment = (bytes: Uint8Array, at: number): boolean => (u16(bytes, at + 6) & (Flags.MoreFragments | 0x1fff)) !== 0

/**
 * Parse the IPv4 packet that starts at `bytes[at]` (0 by default; 14 for the
 * packet of an Ethernet frame, without a view of it); rejected as `check`
 * says.
 */
export const parse = (bytes: Uint8Array, verifyChecksum = true, at = 0): Packet | Rejected => {
  const rejected = check(bytes, verifyChecksum, at)
  if (rejected !== undefined) return rejected
  const totalLength = totalLengthOf(bytes, at)
  return view(bytes, at, headerLengthOf(bytes, at), totalLength, at + totalLength)
}

export type EmbeddedReason = "truncated" | "bad-version" | "bad-header-length"
export type EmbeddedRejected = R<"ipv4-embedded", EmbeddedReason>

const embeddedRejected = rejections("ipv4-embedded", ["truncated", "bad-version", "bad-header-length"])

/**
 * Parse the original datagram quoted in an ICMP error (its header and the
 * first bytes of its data, RFC 792 / RFC 1812 §4.3.2.3). Lenient: the quote is
 * normally cut short, so the total length is not checked against the input and
 * the checksum is not verified. `payload` is whatever data was quoted (up to
 * the total length), typically the transport ports.
 */
export const parseEmbedded = (bytes: Uint8Array): Packet | EmbeddedRejected => {
  if (bytes.length < MIN_HEADER_LENGTH) return embeddedRejected.truncated
  const versionIhl = bytes[0]!
  if (versionIhl >>> 4 !== 4) return embeddedRejected["bad-version"]
  const headerLength = (versionIhl & 0xf) * 4
  if (headerLength < MIN_HEADER_LENGTH) return embeddedRejected["bad-header-length"]
  if (headerLength > bytes.length) return embeddedRejected.truncated
  const totalLength = u16(bytes, 2)
  const end = totalLength >= headerLength && totalLength < bytes.length ? totalLength : bytes.length
  return view(bytes, 0, headerLength, totalLength, end)
}

/** Throw the `RangeError` that says what is wrong with an emit's arguments. */
const invalid = (
  header: Header,
  buffer: Uint8Array,
  offset: number,
  fragmentOffset: number,
  payloadLength: number,
  dscp: number,
  ecn: number,
): never => {
  ensureRoom(buffer, offset, MIN_HEADER_LENGTH, "ipv4.emit")
  checkMax(dscp, 63, "ipv4 dscp")
  checkMax(ecn, 3, "ipv4 ecn")
  check16(header.identification, "ipv4 identification")
  check8(header.ttl, "ipv4 ttl")
  check8(header.protocol, "ipv4 protocol")
  check32(header.source, "ipv4 source")
  check32(header.destination, "ipv4 destination")
  checkMax(payloadLength, MAX_PACKET_LENGTH - MIN_HEADER_LENGTH, "ipv4 payload length")
  throw new RangeError(`ipv4 fragment offset: ${fragmentOffset} is not a multiple of 8 in [0, 65528]`)
}

const write = (
  header: Header,
  buffer: Uint8Array,
  offset: number,
  moreFragments: boolean,
  fragmentOffset: number,
  payloadLength: number,
): number => {
  const dscp = header.dscp ?? 0
  const ecn = header.ecn ?? 0
  // One inline test on the fast path; the slow path says which field is wrong.
  const valid = (dscp & 63) === dscp && (ecn & 3) === ecn &&
    (header.identification & 0xffff) === header.identification && (header.ttl & 0xff) === header.ttl &&
    (header.protocol & 0xff) === header.protocol && header.source >>> 0 === header.source &&
    header.destination >>> 0 === header.destination && (payloadLength & 0xffff) === payloadLength &&
    payloadLength <= MAX_PACKET_LENGTH - MIN_HEADER_LENGTH && (fragmentOffset & 0xfff8) === fragmentOffset &&
    offset >>> 0 === offset && offset + MIN_HEADER_LENGTH <= buffer.length
  if (!valid) invalid(header, buffer, offset, fragmentOffset, payloadLength, dscp, ecn)
  const totalLength = MIN_HEADER_LENGTH + payloadLength
  const flagsFragment = (header.dontFragment === true ? Flags.DontFragment : 0) |
    (moreFragments ? Flags.MoreFragments : 0) | (fragmentOffset >>> 3)
  buffer[offset] = 0x45
  buffer[offset + 1] = (dscp << 2) | ecn
  buffer[offset + 2] = totalLength >>> 8
  buffer[offset + 3] = totalLength
  buffer[offset + 4] = header.identification >>> 8
  buffer[offset + 5] = header.identification
  buffer[offset + 6] = flagsFragment >>> 8
  buffer[offset + 7] = flagsFragment
  buffer[offset + 8] = header.ttl
  buffer[offset + 9] = header.protocol
  writeIpv4(header.source, buffer, offset + 12)
  writeIpv4(header.destination, buffer, offset + 16)
  // The header checksum from the field values: no need to read the bytes back.
  const headerSum = (0x4500 | (dscp << 2) | ecn) + totalLength + header.identification + flagsFragment +
    ((header.ttl << 8) | header.protocol) + (header.source >>> 16) + (header.source & 0xffff) +
    (header.destination >>> 16) + (header.destination & 0xffff)
  const checksum = ~fold(headerSum) & 0xffff
  buffer[offset + 10] = checksum >>> 8
  buffer[offset + 11] = checksum
  return MIN_HEADER_LENGTH
}

/**
 * Write a 20-byte header (no options) with its checksum at `buffer[offset]`;
 * the payload goes right after it. Returns the header length (20). Throws
 * `RangeError` on a field out of range or a buffer too small for the header.
 */
export const emit = (header: Header, buffer: Uint8Array, offset = 0): number =>
  write(
    header,
    buffer,
    offset,
    header.moreFragments === true,
    header.fragmentOffset ?? 0,
    header.payloadLength,
  )

/** One piece of a fragmented payload. */
export interface Fragment {
  /** Offset of the piece in the original payload, in bytes (a multiple of 8). */
  readonly offset: number
  /** Bytes in the piece. */
  readonly length: number
  /** The MF flag: every piece but the last. */
  readonly more: boolean
}

/**
 * Split a payload of `payloadLength` bytes into fragments for an MTU (the
 * largest IPv4 packet, header included): every piece but the last carries a
 * multiple of 8 bytes. A payload that fits gives one unfragmented piece.
 * Throws `RangeError` if the MTU cannot carry 8 bytes of data (MTU < 28).
 */
export const fragments = (payloadLength: number, mtu: number): ReadonlyArray<Fragment> => {
  if (!(mtu >= MIN_HEADER_LENGTH + 8)) throw new RangeError(`ipv4 fragments: MTU ${mtu} is below 28`)
  checkMax(payloadLength, MAX_PACKET_LENGTH - MIN_HEADER_LENGTH, "ipv4 payload length")
  const room = Math.min(mtu, MAX_PACKET_LENGTH) - MIN_HEADER_LENGTH
  if (payloadLength <= room) return [{ offset: 0, length: payloadLength, more: false }]
  const step = room & ~7
  const pieces: Array<Fragment> = []
  for (let at = 0; at < payloadLength; at += step) {
    const length = Math.min(step, payloadLength - at)
    pieces.push({ offset: at, length, more: at + length < payloadLength })
  }
  return pieces
}

/**
 * Write the header of one fragment of the datagram described by `header`
 * (whose `payloadLength`, `moreFragments` and `fragmentOffset` are ignored):
 * the fragment's data is `fragment.length` bytes at `fragment.offset` of the
 * original payload, and follows this header in `buffer`.
 */
export const emitFragment = (header: Header, fragment: Fragment, buffer: Uint8Array, offset = 0): number =>
  write(header, buffer, offset, fragment.more, fragment.offset, fragment.length)

/** Header length of a parsed packet, or of an emitted one (20). */
export const headerLength = (packet?: Packet): number => packet?.headerLength ?? MIN_HEADER_LENGTH

/** Bytes needed for an emitted packet carrying `payloadLength` bytes. */
export const bufferLength = (payloadLength: number): number => MIN_HEADER_LENGTH + payloadLength
