/**
 * ICMPv4 messages (RFC 792).
 *
 * The checksum covers the whole message (header and data), and `parse`
 * verifies it. Messages are a discriminated union on `_tag`:
 * - `Icmpv4Echo`: echo request (type 8) and reply (type 0), with identifier,
 *   sequence number and data;
 * - `Icmpv4DestinationUnreachable` (type 3), with the next-hop MTU of
 *   "fragmentation needed" (code 4, RFC 1191);
 * - `Icmpv4TimeExceeded` (type 11);
 * - `Icmpv4Other`: any other type, with its raw 4-byte rest-of-header.
 *
 * For the two error messages the `payload` is the original datagram's IP
 * header and leading data bytes; read it with `ipv4.parseEmbedded`.
 */
import { check16, check32, check8, checkMax, ensureRoom, u16, u32 } from "./bytes.ts"
import { sum } from "./checksum.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

/** Type (1) + code (1) + checksum (2) + rest of header (4). */
export const HEADER_LENGTH = 8

/** ICMPv4 message types. */
export const Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSolicitation: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
} as const

/** Codes of destination unreachable (RFC 792, RFC 1122, RFC 1812). */
export const UnreachableCode = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  FragmentationNeeded: 4,
  SourceRouteFailed: 5,
  NetUnknown: 6,
  HostUnknown: 7,
  SourceHostIsolated: 8,
  NetProhibited: 9,
  HostProhibited: 10,
  NetTos: 11,
  HostTos: 12,
  AdministrativelyProhibited: 13,
  HostPrecedenceViolation: 14,
  PrecedenceCutoff: 15,
} as const

/** What a destination unreachable of `code` says, in words. */
export const describeUnreachable = (code: number): string => {
  switch (code) {
    case UnreachableCode.Net:
    case UnreachableCode.NetUnknown:
    case UnreachableCode.NetTos:
      return "network unreachable"
    case UnreachableCode.Host:
    case UnreachableCode.HostUnknown:
    case UnreachableCode.SourceHostIsolated:
    case UnreachableCode.HostTos:
      return "host unreachable"
    case UnreachableCode.Protocol:
      return "protocol unreachable"
    case UnreachableCode.Port:
      return "port unreachable"
    case UnreachableCode.FragmentationNeeded:
      return "fragmentation needed"
    case UnreachableCode.NetProhibited:
    case UnreachableCode.HostProhibited:
    case UnreachableCode.AdministrativelyProhibited:
      return "administratively prohibited"
    default:
      return `destination unreachable (code ${code})`
  }
}

/** Codes of time exceeded. */
export const TimeExceededCode = {
  TtlExceeded: 0,
  FragmentReassemblyTimeExceeded: 1,
} as const

/** Echo request or reply. */
export interface Echo {
  readonly _tag: "Icmpv4Echo"
  readonly type: 0 | 8
  readonly code: number
  readonly checksum: number
  readonly identifier: number
  readonly sequence: number
  /** The echo data (a view into the input). */
  readonly payload: Uint8Array
}

/** Destination unreachable. */
export interface DestinationUnreachable {
  readonly _tag: "Icmpv4DestinationUnreachable"
  readonly type: 3
  readonly code: number
  readonly checksum: number
  /** Next-hop MTU of code 4 "fragmentation needed" (RFC 1191); 0 otherwise. */
  readonly nextHopMtu: number
  /** The original datagram: IP header and leading data bytes. */
  readonly payload: Uint8Array
}

/** Time exceeded. */
export interface TimeExceeded {
  readonly _tag: "Icmpv4TimeExceeded"
  readonly type: 11
  readonly code: number
  readonly checksum: number
  /** The original datagram: IP header and leading data bytes. */
  readonly payload: Uint8Array
}

/** Any other message type. */
export interface Other {
  readonly _tag: "Icmpv4Other"
  readonly type: number
  readonly code: number
  readonly checksum: number
  /** Bytes 4..7 of the header as an unsigned 32-bit number. */
  readonly restOfHeader: number
  readonly payload: Uint8Array
}

/** A parsed ICMPv4 message. */
export type Message = Echo | DestinationUnreachable | TimeExceeded | Other

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/**
 * What `emit` writes: a message without its checksum and payload, plus the
 * length of the payload that follows the header in the buffer.
 */
export type Header = DistributiveOmit<Message, "checksum" | "payload"> & { readonly payloadLength: number }

export type Reason = "truncated" | "bad-checksum"
export type Rejected = R<"icmpv4", Reason>

const rejected = rejections("icmpv4", ["truncated", "bad-checksum"])

/**
 * Parse an ICMPv4 message: all of `bytes` (the IPv4 payload) is the message.
 * Pass `verifyChecksum = false` only when it has been verified already.
 */
export const parse = (bytes: Uint8Array, verifyChecksum = true): Message | Rejected => {
  if (bytes.length < HEADER_LENGTH) return rejected.truncated
  if (verifyChecksum && sum(bytes) !== 0xffff) return rejected["bad-checksum"]
  const type = bytes[0]!
  const code = bytes[1]!
  const checksum = u16(bytes, 2)
  const payload = bytes.subarray(HEADER_LENGTH)
  switch (type) {
    case Type.EchoReply:
    case Type.EchoRequest:
      return {
        _tag: "Icmpv4Echo",
        type,
        code,
        checksum,
        identifier: u16(bytes, 4),
        sequence: u16(bytes, 6),
        payload,
      }
    case Type.DestinationUnreachable:
      return { _tag: "Icmpv4DestinationUnreachable", type, code, checksum, nextHopMtu: u16(bytes, 6), payload }
    case Type.TimeExceeded:
      return { _tag: "Icmpv4TimeExceeded", type, code, checksum, payload }
    default:
      return { _tag: "Icmpv4Other", type, code, checksum, restOfHeader: u32(bytes, 4), payload }
  }
}

/**
 * Write an 8-byte header at `buffer[offset]` and the checksum over the header
 * and the `payloadLength` bytes of payload, which must already be in place
 * right after the header. Returns the header length (8). Throws `RangeError`
 * on a field out of range or a buffer too small for the message.
 */
export const emit = (header: Header, buffer: Uint8Array, offset = 0): number => {
  checkMax(header.payloadLength, 0xffff - HEADER_LENGTH, "icmpv4 payload length")
  const end = offset + HEADER_LENGTH + header.payloadLength
  ensureRoom(buffer, offset, HEADER_LENGTH + header.payloadLength, "icmpv4.emit")
  check8(header.type, "icmpv4 type")
  check8(header.code, "icmpv4 code")
  let rest: number
  switch (header._tag) {
    case "Icmpv4Echo":
      check16(header.identifier, "icmpv4 identifier")
      check16(header.sequence, "icmpv4 sequence")
      rest = ((header.identifier << 16) | header.sequence) >>> 0
      break
    case "Icmpv4DestinationUnreachable":
      check16(header.nextHopMtu, "icmpv4 next-hop MTU")
      rest = header.nextHopMtu
      break
    case "Icmpv4TimeExceeded":
      rest = 0
      break
    case "Icmpv4Other":
      check32(header.restOfHeader, "icmpv4 rest of header")
      rest = header.restOfHeader
      break
  }
  buffer[offset] = header.type
  buffer[offset + 1] = header.code
  buffer[offset + 2] = 0
  buffer[offset + 3] = 0
  buffer[offset + 4] = rest >>> 24
  buffer[offset + 5] = rest >>> 16
  buffer[offset + 6] = rest >>> 8
  buffer[offset + 7] = rest
  const checksum = ~sum(buffer, offset, end) & 0xffff
  buffer[offset + 2] = checksum >>> 8
  buffer[offset + 3] = checksum
  return HEADER_LENGTH
}

/** The header length (always 8). */
export const headerLength = (): number => HEADER_LENGTH

/** Bytes needed for a message carrying `payloadLength` bytes. */
export const bufferLength = (payloadLength: number): number => HEADER_LENGTH + payloadLength

/**
 * How many bytes of an offending datagram an ICMP error quotes: its IP header
 * and the first 8 bytes of its data (RFC 792), or all of it if shorter.
 */
export const quoteLength = (datagram: Uint8Array, ipHeaderLength: number): number =>
  Math.min(datagram.length, ipHeaderLength + 8)
