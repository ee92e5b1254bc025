/**
 * Ethernet II frames: destination MAC, source MAC, EtherType, payload.
 *
 * No frame check sequence (NICs and virtual interfaces strip it) and no
 * minimum length: a short frame from a virtual interface is fine, and the
 * padding of a minimum-size frame is left in the payload for the next layer
 * (IPv4 trims it with its total length). 802.1Q tags are not stripped: a
 * tagged frame parses with EtherType 0x8100 and the tag at the payload start.
 */
import type { Mac } from "./addr.ts"
import { readMac, writeMac } from "./addr.ts"
import { check16, checkMac, ensureRoom, u16 } from "./bytes.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

/** Destination (6) + source (6) + EtherType (2). */
export const HEADER_LENGTH = 14

/** The usual Ethernet MTU: the largest payload of a standard frame. */
export const MTU = 1500

/** EtherType values. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
} as const

/** A parsed Ethernet II frame; `payload` is a view into the input, not a copy. */
export interface Frame {
  readonly _tag: "EthernetFrame"
  readonly destination: Mac
  readonly source: Mac
  readonly etherType: number
  readonly payload: Uint8Array
}

/** What `emit` writes. */
export interface Header {
  readonly destination: Mac
  readonly source: Mac
  readonly etherType: number
}

export type Reason = "truncated" | "not-ethernet-ii"
export type Rejected = R<"ethernet", Reason>

const rejected = rejections("ethernet", ["truncated", "not-ethernet-ii"])

/**
 * Why `bytes` is no Ethernet II frame, or undefined when it is one. A
 * type/length field below 0x0600 is an IEEE 802.3 length, not an EtherType:
 * rejected as `not-ethernet-ii`. After undefined, `destinationOf` and
 * `etherTypeOf` read the header without allocating (for a receive path).
 */
export const check = (bytes: Uint8Array): Rejected | undefined => {
  if (bytes.length < HEADER_LENGTH) return rejected.truncated
  if (u16(bytes, 12) < 0x0600) return rejected["not-ethernet-ii"]
  return undefined
}

/** The destination MAC of a frame that passed `check`. */
export const destinationOf = (bytes: Uint8Array): Mac => readMac(bytes, 0)

/** The EtherType of a frame that passed `check`. */
export const etherTypeOf = (bytes: Uint8Array): number => u16(bytes, 12)

/** Parse an Ethernet II frame; rejected as `check` says. */
export const parse = (bytes: Uint8Array): Frame | Rejected =>
  check(bytes) ?? {
    _tag: "EthernetFrame",
    destination: destinationOf(bytes),
    source: readMac(bytes, 6),
    etherType: etherTypeOf(bytes),
    payload: bytes.subarray(HEADER_LENGTH),
  }

/**
 * Write the 14-byte header at `buffer[offset]`; the payload goes right after
 * it. Returns the header length. Throws `RangeError` if it does not fit.
 */
export const emit = (header: Header, buffer: Uint8Array, offset = 0): number => {
  ensureRoom(buffer, offset, HEADER_LENGTH, "ethernet.emit")
  check16(header.etherType, "ethernet etherType")
  checkMac(header.destination, "ethernet destination")
  checkMac(header.source, "ethernet source")
  writeMac(header.destination, buffer, offset)
  writeMac(header.source, buffer, offset + 6)
  buffer[offset + 12] = header.etherType >>> 8
  buffer[offset + 13] = header.etherType
  return HEADER_LENGTH
}

/** The header length (always 14). */
export const headerLength = (): number => HEADER_LENGTH

/** Bytes needed for a frame carrying `payloadLength` bytes. */
export const bufferLength = (payloadLength: number): number => HEADER_LENGTH + payloadLength
