/**
 * TCP segment headers and options (RFC 9293, RFC 7323, RFC 2018) over IPv4.
 *
 * `parse` checks the length (20 bytes at least), the data offset (5..15 words,
 * within the segment), the checksum over the IPv4 pseudo-header, header and
 * data, and the options: MSS, window scale, SACK-permitted, SACK blocks,
 * timestamps, EOL and NOP are decoded; unknown options are skipped by their
 * length; a malformed length (too short, past the header, or wrong for a known
 * option) rejects the segment.
 *
 * `emit` writes the header with its options, padded to 4 bytes with NOPs in
 * front of the options that need alignment, and the checksum over the
 * pseudo-header, header and the data already placed after the header.
 *
 * The TCP length is not in the TCP header: the segment is the whole of the
 * input, i.e. the IPv4 payload.
 */
import type { Ipv4 } from "./addr.ts"
import { check16, check32, check8, checkMax, ensureRoom, put16, put32, u16, u32 } from "./bytes.ts"
import { checksum, pseudoHeaderSum, verify } from "./checksum.ts"
import type { Rejected as R } from "./result.ts"
import { rejections } from "./result.ts"

export { seqAdd, seqDiff, seqGeq, seqGt, seqInWindow, seqLeq, seqLt, seqMax, seqMin } from "./seq.ts"

/** A header without options. */
export const MIN_HEADER_LENGTH = 20

/** The data offset is 4 bits of 32-bit words: at most 60 bytes. */
export const MAX_HEADER_LENGTH = 60

/** At most 40 bytes of options. */
export const MAX_OPTIONS_LENGTH = 40

/** IPv4 protocol number of TCP. */
export const PROTOCOL = 6

/** The flag bits (byte 13 of the header). */
export const Flags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const

/** Option kinds. */
export const OptionKind = {
  EndOfOptionList: 0,
  NoOperation: 1,
  MaximumSegmentSize: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const

/** The largest window shift (RFC 7323 §2.3); a larger received value means 14. */
export const MAX_WINDOW_SCALE = 14

/** One SACK block: the received bytes `[left, right)` (sequence numbers). */
export interface SackBlock {
  readonly left: number
  readonly right: number
}

/** The timestamps option (RFC 7323 §3). */
export interface Timestamps {
  /** TSval: the sender's timestamp clock. */
  readonly tsVal: number
  /** TSecr: the TSval being echoed (meaningful with ACK). */
  readonly tsEcr: number
}

/** The decoded options of a parsed segment (absent ones `undefined`/`false`). */
export interface Options {
  readonly mss: number | undefined
  /** The raw shift count as received (may exceed 14; see `MAX_WINDOW_SCALE`). */
  readonly windowScale: number | undefined
  readonly sackPermitted: boolean
  /** 1 to 4 blocks, or `undefined`. */
  readonly sack: ReadonlyArray<SackBlock> | undefined
  readonly timestamps: Timestamps | undefined
}

/** The options to emit; a parsed `Options` is one. */
export interface OptionsInit {
  readonly mss?: number | undefined
  /** 0..14. */
  readonly windowScale?: number | undefined
  readonly sackPermitted?: boolean | undefined
  /** 0 to 4 blocks (at most 3 with timestamps, for lack of room). */
  readonly sack?: ReadonlyArray<SackBlock> | undefined
  readonly timestamps?: Timestamps | undefined
}

/** The options of a segment that has none. */
export const NO_OPTIONS: Options = Object.freeze({
  mss: undefined,
  windowScale: undefined,
  sackPermitted: false,
  sack: undefined,
  timestamps: undefined,
})

/** A parsed TCP segment; `payload` is a view into the input. */
export interface Segment {
  readonly _tag: "TcpSegment"
  readonly sourcePort: number
  readonly destinationPort: number
  readonly sequenceNumber: number
  readonly acknowledgmentNumber: number
  /** Data offset × 4: header length in bytes, options included. */
  readonly headerLength: number
  /** The flag byte: test with `Flags` (`(flags & Flags.SYN) !== 0`). */
  readonly flags: number
  readonly window: number
  readonly checksum: number
  readonly urgentPointer: number
  readonly options: Options
  readonly payload: Uint8Array
}

/** What `emit` writes. */
export interface Header {
  readonly sourcePort: number
  readonly destinationPort: number
  readonly sequenceNumber: number
  readonly acknowledgmentNumber: number
  /** A combination of `Flags`. */
  readonly flags: number
  readonly window: number
  readonly urgentPointer?: number
  readonly options?: OptionsInit
  /** Bytes of data following the header. */
  readonly payloadLength: number
}

export type Reason = "truncated" | "bad-data-offset" | "bad-option-length" | "bad-checksum"
export type Rejected = R<"tcp", Reason>

const rejected = rejections("tcp", ["truncated", "bad-data-offset", "bad-option-length", "bad-checksum"])

/** Decode the options in `b[start, end)`; `undefined` if a length is malformed. */
const parseOptions = (b: Uint8Array, start: number, end: number): Options | undefined => {
  let mss: number | undefined
  let windowScale: number | undefined
  let sackPermitted = false
  let sack: Array<SackBlock> | undefined
  let timestamps: Timestamps | undefined
  let i = start
  while (i < end) {
    const kind = b[i]!
    if (kind === OptionKind.EndOfOptionList) break
    if (kind === OptionKind.NoOperation) {
      i += 1
      continue
    }
    if (i + 1 >= end) return undefined
    const length = b[i + 1]!
    if (length < 2 || i + length > end) return undefined
    switch (kind) {
      case OptionKind.MaximumSegmentSize:
        if (length !== 4) return undefined
        mss = u16(b, i + 2)
        break
      case OptionKind.WindowScale:
        if (length !== 3) return undefined
        windowScale = b[i + 2]!
        break
      case OptionKind.SackPermitted:
        if (length !== 2) return undefined
        sackPermitted = true
        break
      case OptionKind.Sack: {
        if (length < 10 || ((length - 2) & 7) !== 0) return undefined
        sack = []
        for (let at = i + 2; at < i + length; at += 8) sack.push({ left: u32(b, at), right: u32(b, at + 4) })
        break
      }
      case OptionKind.Timestamps:
        if (length !== 10) return undefined
        timestamps = { tsVal: u32(b, i + 2), tsEcr: u32(b, i + 6) }
        break
      default:
        break
    }
    i += length
  }
  return { mss, windowScale, sackPermitted, sack, timestamps }
}

/**
 * Parse a TCP segment carried in an IPv4 packet from `source` to
 * `destination` (the segment is `bytes[start, end)`: all of `bytes` by
 * default), verifying its checksum. Pass `verifyChecksum = false` only when
 * the device has already verified it.
 */
export const parse = (
  bytes: Uint8Array,
  source: Ipv4,
  destination: Ipv4,
  verifyChecksum = true,
  start = 0,
  end = bytes.length,
): Segment | Rejected => {
  const length = end - start
  if (length < MIN_HEADER_LENGTH) return rejected.truncated
  const headerLength = (bytes[start + 12]! >>> 4) * 4
  if (headerLength < MIN_HEADER_LENGTH) return rejected["bad-data-offset"]
  if (headerLength > length) return rejected["bad-data-offset"]
  if (verifyChecksum && !verify(bytes, start, end, pseudoHeaderSum(source, destination, PROTOCOL, length))) {
    return rejected["bad-checksum"]
  }
  const options = headerLength === MIN_HEADER_LENGTH ? NO_OPTIONS : parseOptions(bytes, start + MIN_HEADER_LENGTH, start + headerLength)
  if (options === undefined) return rejected["bad-option-length"]
  return {
    _tag: "TcpSegment",
    sourcePort: u16(bytes, start),
    destinationPort: u16(bytes, start + 2),
    sequenceNumber: u32(bytes, start + 4),
    acknowledgmentNumber: u32(bytes, start + 8),
    headerLength,
    flags: bytes[start + 13]!,
    window: u16(bytes, start + 14),
    checksum: u16(bytes, start + 16),
    urgentPointer: u16(bytes, start + 18),
    options,
    payload: bytes.subarray(start + headerLength, end),
  }
}

/**
 * Bytes the options take on the wire, padding included (a multiple of 4):
 * MSS 4; SACK-permitted with timestamps 12 (SACK-permitted, TS); timestamps
 * alone 12 (NOP, NOP, TS); SACK-permitted alone 4 (NOP, NOP, SACK-permitted);
 * window scale 4 (NOP, WS); SACK 4 + 8 per block (NOP, NOP, SACK).
 */
export const optionsLength = (options: OptionsInit | undefined): number => {
  if (options === undefined) return 0
  let n = 0
  if (options.mss !== undefined) n += 4
  if (options.timestamps !== undefined || options.sackPermitted === true) {
    n += options.timestamps !== undefined ? 12 : 4
  }
  if (options.windowScale !== undefined) n += 4
  if (options.sack !== undefined && options.sack.length > 0) n += 4 + 8 * options.sack.length
  return n
}

/** Header length for these options: 20 + `optionsLength(options)`. */
export const headerLength = (options?: OptionsInit): number => MIN_HEADER_LENGTH + optionsLength(options)

/** Bytes needed for a segment with these options and `payloadLength` bytes of data. */
export const bufferLength = (options: OptionsInit | undefined, payloadLength: number): number =>
  headerLength(options) + payloadLength

const checkOptions = (options: OptionsInit): void => {
  if (options.mss !== undefined) check16(options.mss, "tcp option mss")
  if (options.windowScale !== undefined) checkMax(options.windowScale, MAX_WINDOW_SCALE, "tcp option window scale")
  if (options.timestamps !== undefined) {
    check32(options.timestamps.tsVal, "tcp option TSval")
    check32(options.timestamps.tsEcr, "tcp option TSecr")
  }
  if (options.sack !== undefined) {
    if (options.sack.length > 4) throw new RangeError(`tcp option sack: ${options.sack.length} blocks, at most 4`)
    for (const block of options.sack) {
      check32(block.left, "tcp option sack left edge")
      check32(block.right, "tcp option sack right edge")
    }
  }
}

/** The fast, non-throwing form of `checkOptions`. */
const optionsValid = (o: OptionsInit): boolean =>
  (o.mss === undefined || (o.mss & 0xffff) === o.mss) &&
  (o.windowScale === undefined || (o.windowScale >>> 0 === o.windowScale && o.windowScale <= MAX_WINDOW_SCALE)) &&
  (o.timestamps === undefined ||
    (o.timestamps.tsVal >>> 0 === o.timestamps.tsVal && o.timestamps.tsEcr >>> 0 === o.timestamps.tsEcr)) &&
  (o.sack === undefined || o.sack.length === 0)

/** Throw the `RangeError` that says what is wrong with an emit's arguments. */
const invalid = (
  header: Header,
  buffer: Uint8Array,
  offset: number,
  source: number,
  destination: number,
  hl: number,
  urgentPointer: number,
): never => {
  check16(header.sourcePort, "tcp source port")
  check16(header.destinationPort, "tcp destination port")
  check32(header.sequenceNumber, "tcp sequence number")
  check32(header.acknowledgmentNumber, "tcp acknowledgment number")
  check8(header.flags, "tcp flags")
  check16(header.window, "tcp window")
  check16(urgentPointer, "tcp urgent pointer")
  check32(source, "tcp pseudo-header source")
  check32(destination, "tcp pseudo-header destination")
  checkMax(header.payloadLength, 0xffff - hl, "tcp payload length")
  ensureRoom(buffer, offset, hl + header.payloadLength, "tcp.emit")
  throw new RangeError("tcp.emit: invalid arguments")
}

/** Write the options at `b[at]`; returns the bytes written (a multiple of 4). */
const writeOptions = (options: OptionsInit, b: Uint8Array, start: number): number => {
  let at = start
  if (options.mss !== undefined) {
    b[at] = OptionKind.MaximumSegmentSize
    b[at + 1] = 4
    put16(b, at + 2, options.mss)
    at += 4
  }
  const ts = options.timestamps
  if (options.sackPermitted === true) {
    if (ts === undefined) {
      b[at++] = OptionKind.NoOperation
      b[at++] = OptionKind.NoOperation
    }
    b[at++] = OptionKind.SackPermitted
    b[at++] = 2
  } else if (ts !== undefined) {
    b[at++] = OptionKind.NoOperation
    b[at++] = OptionKind.NoOperation
  }
  if (ts !== undefined) {
    b[at] = OptionKind.Timestamps
    b[at + 1] = 10
    put32(b, at + 2, ts.tsVal)
    put32(b, at + 6, ts.tsEcr)
    at += 10
  }
  if (options.windowScale !== undefined) {
    b[at] = OptionKind.NoOperation
    b[at + 1] = OptionKind.WindowScale
    b[at + 2] = 3
    b[at + 3] = options.windowScale
    at += 4
  }
  const sack = options.sack
  if (sack !== undefined && sack.length > 0) {
    b[at] = OptionKind.NoOperation
    b[at + 1] = OptionKind.NoOperation
    b[at + 2] = OptionKind.Sack
    b[at + 3] = 2 + 8 * sack.length
    at += 4
    for (const block of sack) {
      put32(b, at, block.left)
      put32(b, at + 4, block.right)
      at += 8
    }
  }
  // Pad to a 4-byte boundary with EOL (zeros), RFC 9293 §3.1. The layout above
  // is already aligned; this keeps the invariant if it ever changes.
  while (((at - start) & 3) !== 0) b[at++] = OptionKind.EndOfOptionList
  return at - start
}

/**
 * Write the header and options at `buffer[offset]` and the checksum over the
 * pseudo-header (`source`, `destination`), the header and the
 * `payloadLength` bytes of data, which must already be in place right after
 * the header (at `offset + headerLength(header.options)`). With
 * `computeChecksum = false` the checksum field is left 0 (for a device that
 * offloads it). Returns the header length. Throws `RangeError` on a field out
 * of range, options over 40 bytes, or a buffer too small for the segment.
 */
export const emit = (
  header: Header,
  buffer: Uint8Array,
  offset: number,
  source: Ipv4,
  destination: Ipv4,
  computeChecksum = true,
): number => {
  const options = header.options
  const optionBytes = optionsLength(options)
  if (optionBytes > MAX_OPTIONS_LENGTH) {
    throw new RangeError(`tcp options: ${optionBytes} bytes, at most ${MAX_OPTIONS_LENGTH}`)
  }
  if (options !== undefined && !optionsValid(options)) checkOptions(options)
  const hl = MIN_HEADER_LENGTH + optionBytes
  const urgentPointer = header.urgentPointer ?? 0
  const length = hl + header.payloadLength
  // One inline test on the fast path; the slow path says which field is wrong.
  const valid = (header.sourcePort & 0xffff) === header.sourcePort &&
    (header.destinationPort & 0xffff) === header.destinationPort &&
    header.sequenceNumber >>> 0 === header.sequenceNumber &&
    header.acknowledgmentNumber >>> 0 === header.acknowledgmentNumber && (header.flags & 0xff) === header.flags &&
    (header.window & 0xffff) === header.window && (urgentPointer & 0xffff) === urgentPointer &&
    source >>> 0 === source && destination >>> 0 === destination &&
    (header.payloadLength & 0xffff) === header.payloadLength && length <= 0xffff && offset >>> 0 === offset &&
    offset + length <= buffer.length
  if (!valid) invalid(header, buffer, offset, source, destination, hl, urgentPointer)
  put16(buffer, offset, header.sourcePort)
  put16(buffer, offset + 2, header.destinationPort)
  put32(buffer, offset + 4, header.sequenceNumber)
  put32(buffer, offset + 8, header.acknowledgmentNumber)
  buffer[offset + 12] = (hl >>> 2) << 4
  buffer[offset + 13] = header.flags
  put16(buffer, offset + 14, header.window)
  buffer[offset + 16] = 0
  buffer[offset + 17] = 0
  put16(buffer, offset + 18, urgentPointer)
  if (options !== undefined && optionBytes > 0) writeOptions(options, buffer, offset + MIN_HEADER_LENGTH)
  if (computeChecksum) put16(buffer, offset + 16, checksum(buffer, offset, offset + length, pseudoHeaderSum(source, destination, PROTOCOL, length)))
  return hl
}

/** Names of the flags set in a flag byte, for logs: `"SYN|ACK"`. */
export const formatFlags = (flags: number): string => {
  const names: Array<string> = []
  for (const [name, bit] of Object.entries(Flags)) if ((flags & bit) !== 0) names.push(name)
  return names.length === 0 ? "none" : names.join("|")
}
