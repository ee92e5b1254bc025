/**
 * ARP for IPv4 over Ethernet (RFC 826): the only combination a stack needs,
 * so anything else (other hardware or protocol types or address lengths) is a
 * typed rejection. The operation is exposed as a number (1 request, 2 reply;
 * RARP and others are left to the caller to ignore).
 */
import type { Ipv4, Mac } from "./addr.ts"
import { readIpv4, readMac, writeIpv4, writeMac } from "./addr.ts"
import { check16, check32, checkMac, ensureRoom, u16 } from "./bytes.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

/** An Ethernet/IPv4 ARP packet is 28 bytes. */
export const PACKET_LENGTH = 28

/** ARP operations. */
export const Operation = {
  Request: 1,
  Reply: 2,
} as const

/** Hardware type of Ethernet. */
export const HARDWARE_ETHERNET = 1

/** Protocol type of IPv4 (its EtherType). */
export const PROTOCOL_IPV4 = 0x0800

/** A parsed ARP packet; trailing bytes (Ethernet padding) are ignored. */
export interface Packet {
  readonly _tag: "ArpPacket"
  readonly operation: number
  readonly senderMac: Mac
  readonly senderIp: Ipv4
  readonly targetMac: Mac
  readonly targetIp: Ipv4
}

/** What `emit` writes. */
export interface Header {
  readonly operation: number
  readonly senderMac: Mac
  readonly senderIp: Ipv4
  readonly targetMac: Mac
  readonly targetIp: Ipv4
}

export type Reason = "truncated" | "unsupported-hardware" | "unsupported-protocol"
export type Rejected = R<"arp", Reason>

const rejected = rejections("arp", ["truncated", "unsupported-hardware", "unsupported-protocol"])

/** Parse an Ethernet/IPv4 ARP packet. */
export const parse = (bytes: Uint8Array): Packet | Rejected => {
  if (bytes.length < PACKET_LENGTH) return rejected.truncated
  if (u16(bytes, 0) !== HARDWARE_ETHERNET || bytes[4] !== 6) return rejected["unsupported-hardware"]
  if (u16(bytes, 2) !== PROTOCOL_IPV4 || bytes[5] !== 4) return rejected["unsupported-protocol"]
  return {
    _tag: "ArpPacket",
    operation: u16(bytes, 6),
    senderMac: readMac(bytes, 8),
    senderIp: readIpv4(bytes, 14),
    targetMac: readMac(bytes, 18),
    targetIp: readIpv4(bytes, 24),
  }
}

/** Write the 28-byte packet at `buffer[offset]`; returns 28. */
export const emit = (header: Header, buffer: Uint8Array, offset = 0): number => {
  ensureRoom(buffer, offset, PACKET_LENGTH, "arp.emit")
  check16(header.operation, "arp operation")
  checkMac(header.senderMac, "arp sender MAC")
  check32(header.senderIp, "arp sender IP")
  checkMac(header.targetMac, "arp target MAC")
  check32(header.targetIp, "arp target IP")
  buffer[offset] = 0
  buffer[offset + 1] = HARDWARE_ETHERNET
  buffer[offset + 2] = PROTOCOL_IPV4 >>> 8
  buffer[offset + 3] = PROTOCOL_IPV4 & 0xff
  buffer[offset + 4] = 6
  buffer[offset + 5] = 4
  buffer[offset + 6] = header.operation >>> 8
  buffer[offset + 7] = header.operation
  writeMac(header.senderMac, buffer, offset + 8)
  writeIpv4(header.senderIp, buffer, offset + 14)
  writeMac(header.targetMac, buffer, offset + 18)
  writeIpv4(header.targetIp, buffer, offset + 24)
  return PACKET_LENGTH
}

/** The packet length (always 28). */
export const headerLength = (): number => PACKET_LENGTH

/** Bytes needed for an ARP packet (always 28). */
export const bufferLength = (): number => PACKET_LENGTH
