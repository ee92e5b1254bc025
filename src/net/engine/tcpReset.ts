/**
 * The reset a closed port answers a TCP segment with (RFC 793 §3.4, "Reset
 * Generation", CLOSED state): used when no TCP is plugged into the stack, so
 * a peer's connect fails at once with "connection refused" (RFC 1122
 * §4.2.2.13 prefers this over an ICMP protocol unreachable for TCP).
 */
import { Flags, MIN_HEADER_LENGTH, emit } from "../wire/tcp.ts"
import type { Header, Segment } from "../wire/tcp.ts"
import type { Ipv4 } from "../wire/addr.ts"

/** The length of a reset segment (a bare header). */
export const RESET_LENGTH = MIN_HEADER_LENGTH

/** The reset answering `segment`, or undefined for a segment that is itself a reset (never answered). */
export const resetFor = (segment: Segment): Header | undefined => {
  if ((segment.flags & Flags.RST) !== 0) return undefined
  const base = { sourcePort: segment.destinationPort, destinationPort: segment.sourcePort, window: 0, payloadLength: 0 }
  if ((segment.flags & Flags.ACK) !== 0) {
    return { ...base, sequenceNumber: segment.acknowledgmentNumber, acknowledgmentNumber: 0, flags: Flags.RST }
  }
  const length = segment.payload.length + ((segment.flags & Flags.SYN) !== 0 ? 1 : 0) + ((segment.flags & Flags.FIN) !== 0 ? 1 : 0)
  return {
    ...base,
    sequenceNumber: 0,
    acknowledgmentNumber: (segment.sequenceNumber + length) >>> 0,
    flags: Flags.RST | Flags.ACK,
  }
}

/** A writer of `reset` for `IpSender.send`, to `destination`. */
export const writeReset = (reset: Header, destination: Ipv4) => (buffer: Uint8Array, offset: number, source: Ipv4): void => {
  emit(reset, buffer, offset, source, destination)
}
