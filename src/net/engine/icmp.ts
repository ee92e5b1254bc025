/**
 * ICMPv4 messages the stack sends (RFC 792, RFC 1122 §3.2.2): echo requests
 * and replies, and the errors destination unreachable and time exceeded. Each is a writer for
 * `IpSender.send`: `(buffer, offset) => void` filling `length` bytes.
 */
import { HEADER_LENGTH, Type, emit } from "../wire/icmpv4.ts"

/** The ICMP message length of an echo carrying `data`. */
export const echoLength = (dataLength: number): number => HEADER_LENGTH + dataLength

/** Write an echo request (type 8) or reply (type 0) carrying `data` at `buffer[offset]`. */
export const writeEcho = (
  buffer: Uint8Array,
  offset: number,
  type: 0 | 8,
  identifier: number,
  sequence: number,
  data: Uint8Array,
): void => {
  buffer.set(data, offset + HEADER_LENGTH)
  emit({ _tag: "Icmpv4Echo", type, code: 0, identifier, sequence, payloadLength: data.length }, buffer, offset)
}

/** The quote of an offending datagram in an ICMP error: its IP header and first 8 data bytes (RFC 792). */
export const quoteOf = (header: Uint8Array, payload: Uint8Array): Uint8Array => {
  const quote = new Uint8Array(header.length + Math.min(8, payload.length))
  quote.set(header)
  quote.set(payload.subarray(0, 8), header.length)
  return quote
}

/** The two ICMP errors the stack sends. */
export type ErrorType = typeof Type.DestinationUnreachable | typeof Type.TimeExceeded

/** Write an ICMP error of `type` and `code` quoting `quote` at `buffer[offset]`; its length is `8 + quote.length`. */
export const writeError = (buffer: Uint8Array, offset: number, type: ErrorType, code: number, quote: Uint8Array): void => {
  buffer.set(quote, offset + HEADER_LENGTH)
  const payloadLength = quote.length
  emit(
    type === Type.DestinationUnreachable
      ? { _tag: "Icmpv4DestinationUnreachable", type, code, nextHopMtu: 0, payloadLength }
      : { _tag: "Icmpv4TimeExceeded", type, code, payloadLength },
    buffer,
    offset,
  )
}

/** Write a destination unreachable of `code` quoting `quote` at `buffer[offset]`; its length is `8 + quote.length`. */
export const writeUnreachable = (buffer: Uint8Array, offset: number, code: number, quote: Uint8Array): void =>
  writeError(buffer, offset, Type.DestinationUnreachable, code, quote)
