/**
 * MAC and IPv4 addresses, as plain numbers.
 *
 * - A MAC address is a 48-bit unsigned integer (exact in a JS number), so it
 *   compares with `===` and keys a `Map` directly. `readMac`/`writeMac` move it
 *   to and from the 6 wire bytes.
 * - An IPv4 address is a 32-bit unsigned integer (`>>> 0`), so it compares with
 *   `===`, masks with `&` and keys a `Map`.
 *
 * Text parsing never throws: invalid text gives a typed `Rejected`.
 */
import { u32 } from "./bytes.ts"
import type { Rejected } from "./result.ts"
import { rejections } from "./result.ts"

// ---------------------------------------------------------------------------
// MAC addresses

/** A MAC address: an integer in [0, 2^48). */
export type Mac = number

/** `ff:ff:ff:ff:ff:ff`. */
export const MAC_BROADCAST: Mac = 0xffffffffffff

/** `00:00:00:00:00:00`. */
export const MAC_ZERO: Mac = 0

const TWO_32 = 0x100000000

/** Read a MAC address from 6 bytes at `offset` (the caller checks the length). */
export const readMac = (bytes: Uint8Array, offset: number): Mac =>
  ((bytes[offset]! << 8) | bytes[offset + 1]!) * TWO_32 + u32(bytes, offset + 2)

/** Write a MAC address as 6 bytes at `offset`. */
export const writeMac = (mac: Mac, bytes: Uint8Array, offset: number): void => {
  const hi = Math.floor(mac / TWO_32)
  const lo = mac >>> 0
  bytes[offset] = hi >>> 8
  bytes[offset + 1] = hi
  bytes[offset + 2] = lo >>> 24
  bytes[offset + 3] = lo >>> 16
  bytes[offset + 4] = lo >>> 8
  bytes[offset + 5] = lo
}

/** A MAC address as a fresh 6-byte array. */
export const macToBytes = (mac: Mac): Uint8Array => {
  const bytes = new Uint8Array(6)
  writeMac(mac, bytes, 0)
  return bytes
}

/** Whether `n` is a valid MAC number (an integer in [0, 2^48)). */
export const isMac = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAC_BROADCAST

/** The group bit (least significant bit of the first octet): multicast or broadcast. */
export const isMulticastMac = (mac: Mac): boolean => (Math.floor(mac / 0x10000000000) & 1) === 1

/** Whether the address is `ff:ff:ff:ff:ff:ff`. */
export const isBroadcastMac = (mac: Mac): boolean => mac === MAC_BROADCAST

/** Whether the address is an individual (unicast) address. */
export const isUnicastMac = (mac: Mac): boolean => !isMulticastMac(mac)

/** The locally-administered bit (second least significant bit of the first octet). */
export const isLocalMac = (mac: Mac): boolean => (Math.floor(mac / 0x10000000000) & 2) === 2

/** The layers and reasons of address parsing rejections. */
export type MacRejected = Rejected<"mac-address", "syntax">
export type Ipv4Rejected = Rejected<"ipv4-address", "syntax">
export type CidrRejected = Rejected<"ipv4-cidr", "syntax" | "bad-address" | "bad-prefix-length">

const macRejected = rejections("mac-address", ["syntax"])
const ipv4Rejected = rejections("ipv4-address", ["syntax"])
const cidrRejected = rejections("ipv4-cidr", ["syntax", "bad-address", "bad-prefix-length"])

const HEX2 = "([0-9a-fA-F]{2})"
/** Six hex pairs; the separator (group 2) must be the same throughout. */
const MAC_TEXT = new RegExp(`^${HEX2}([:-])${HEX2}\\2${HEX2}\\2${HEX2}\\2${HEX2}\\2${HEX2}$`)

/**
 * Parse `02:00:00:00:00:01` (six two-digit hex groups, `:` or `-` separated,
 * any case) into a MAC number.
 */
export const parseMac = (text: string): Mac | MacRejected => {
  const m = MAC_TEXT.exec(text)
  if (m === null) return macRejected.syntax
  let mac = 0
  for (const i of [1, 3, 4, 5, 6, 7]) mac = mac * 256 + parseInt(m[i]!, 16)
  return mac
}

const hex2 = (n: number): string => (n < 16 ? "0" : "") + n.toString(16)

/** Format a MAC number as `02:00:00:00:00:01` (lower case). */
export const formatMac = (mac: Mac): string => {
  const b = macToBytes(mac)
  return `${hex2(b[0]!)}:${hex2(b[1]!)}:${hex2(b[2]!)}:${hex2(b[3]!)}:${hex2(b[4]!)}:${hex2(b[5]!)}`
}

// ---------------------------------------------------------------------------
// IPv4 addresses

/** An IPv4 address: an unsigned 32-bit integer (`>>> 0`). */
export type Ipv4 = number

/** `0.0.0.0`. */
export const IPV4_ANY: Ipv4 = 0

/** `255.255.255.255`, the limited broadcast address. */
export const IPV4_BROADCAST: Ipv4 = 0xffffffff

/** `127.0.0.1`. */
export const IPV4_LOCALHOST: Ipv4 = 0x7f000001

/** An IPv4 address from its four octets: `ipv4(10, 0, 0, 2)`. */
export const ipv4 = (a: number, b: number, c: number, d: number): Ipv4 =>
  (((a & 0xff) << 24) | ((b & 0xff) << 16) | ((c & 0xff) << 8) | (d & 0xff)) >>> 0

/** Read an IPv4 address from 4 bytes at `offset` (the caller checks the length). */
export const readIpv4 = (bytes: Uint8Array, offset: number): Ipv4 => u32(bytes, offset)

/** Write an IPv4 address as 4 bytes at `offset`. */
export const writeIpv4 = (address: Ipv4, bytes: Uint8Array, offset: number): void => {
  bytes[offset] = address >>> 24
  bytes[offset + 1] = address >>> 16
  bytes[offset + 2] = address >>> 8
  bytes[offset + 3] = address
}

/** Whether `n` is a valid IPv4 number (an integer in [0, 2^32)). */
export const isIpv4 = (n: number): boolean => n >>> 0 === n

const OCTET = "(0|[1-9][0-9]{0,2})"
const IPV4_TEXT = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`)

/**
 * Parse dotted-quad text (`10.0.0.2`) into an IPv4 number. Strict: exactly four
 * decimal octets 0..255, no leading zeros (`010` is ambiguous), no spaces.
 */
export const parseIpv4 = (text: string): Ipv4 | Ipv4Rejected => {
  const m = IPV4_TEXT.exec(text)
  if (m === null) return ipv4Rejected.syntax
  const a = +m[1]!
  const b = +m[2]!
  const c = +m[3]!
  const d = +m[4]!
  if (a > 255 || b > 255 || c > 255 || d > 255) return ipv4Rejected.syntax
  return ipv4(a, b, c, d)
}

/** Format an IPv4 number as `10.0.0.2`. */
export const formatIpv4 = (address: Ipv4): string =>
  `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`

/** `0.0.0.0`. */
export const isUnspecifiedIpv4 = (address: Ipv4): boolean => address === 0

/** `255.255.255.255`. */
export const isBroadcastIpv4 = (address: Ipv4): boolean => address === IPV4_BROADCAST

/** `224.0.0.0/4`. */
export const isMulticastIpv4 = (address: Ipv4): boolean => address >>> 28 === 0xe

/** `127.0.0.0/8`. */
export const isLoopbackIpv4 = (address: Ipv4): boolean => address >>> 24 === 127

/** `169.254.0.0/16`. */
export const isLinkLocalIpv4 = (address: Ipv4): boolean => address >>> 16 === 0xa9fe

// ---------------------------------------------------------------------------
// CIDR prefixes

/** An address with its prefix (`10.0.0.2/24`) and the derived subnet values. */
export interface Ipv4Cidr {
  readonly _tag: "Ipv4Cidr"
  /** The address as written (`10.0.0.2`). */
  readonly address: Ipv4
  /** 0..32. */
  readonly prefixLength: number
  /** `255.255.255.0` for /24 (0 for /0). */
  readonly netmask: Ipv4
  /** `address & netmask` (`10.0.0.0`). */
  readonly network: Ipv4
  /**
   * `network | ~netmask` (`10.0.0.255`). For /31 (RFC 3021) and /32 there is
   * no directed broadcast; the value is still computed this way.
   */
  readonly broadcast: Ipv4
}

/** The netmask of a prefix length in 0..32 (`24` → `255.255.255.0`). */
export const netmask = (prefixLength: number): Ipv4 =>
  prefixLength <= 0 ? 0 : prefixLength >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLength)) >>> 0

/** The prefix length of a contiguous netmask, or `undefined` if it is not contiguous. */
export const prefixLengthOf = (mask: Ipv4): number | undefined => {
  const inverted = ~mask >>> 0
  // Contiguous iff the inverted mask is 2^k - 1.
  if ((inverted & (inverted + 1)) !== 0) return undefined
  return 32 - (inverted === 0 ? 0 : 32 - Math.clz32(inverted))
}

/** Build a CIDR value from an address and a prefix length (integer 0..32). */
export const makeCidr = (address: Ipv4, prefixLength: number): Ipv4Cidr | CidrRejected => {
  if (!isIpv4(address)) return cidrRejected["bad-address"]
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    return cidrRejected["bad-prefix-length"]
  }
  const mask = netmask(prefixLength)
  const network = (address & mask) >>> 0
  return { _tag: "Ipv4Cidr", address, prefixLength, netmask: mask, network, broadcast: (network | ~mask) >>> 0 }
}

const CIDR_TEXT = /^([0-9.]+)\/(0|[1-9][0-9]?)$/

/** Parse `10.0.0.2/24`. */
export const parseCidr = (text: string): Ipv4Cidr | CidrRejected => {
  const m = CIDR_TEXT.exec(text)
  if (m === null) return cidrRejected.syntax
  const address = parseIpv4(m[1]!)
  if (typeof address !== "number") return cidrRejected["bad-address"]
  return makeCidr(address, +m[2]!)
}

/** Format as `10.0.0.2/24`. */
export const formatCidr = (cidr: Ipv4Cidr): string => `${formatIpv4(cidr.address)}/${cidr.prefixLength}`

/** Whether `address` is inside the subnet of `cidr`. */
export const inSubnet = (cidr: Ipv4Cidr, address: Ipv4): boolean => ((address ^ cidr.network) & cidr.netmask) === 0
