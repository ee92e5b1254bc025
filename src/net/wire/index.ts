/**
 * Wire formats of the TCP/IP stack: pure functions over `Uint8Array`, no
 * Effect, no copies (model: smoltcp's `wire` module).
 *
 * Every protocol module has the same shape:
 * - constants (EtherTypes, protocol numbers, ICMP types, TCP flags…);
 * - `parse(bytes, …)`: checks lengths once and returns either a typed view
 *   (readonly fields, `payload` a subarray of the input) or a typed
 *   `Rejected` (`{ _tag: "Rejected", layer, reason }`); it never throws;
 * - `emit(header, buffer, offset, …)`: writes the header (and checksum) into
 *   the caller's buffer and returns the header length; the payload is written
 *   by the caller right after the header, before the emit for protocols whose
 *   checksum covers it (ICMPv4, UDP, TCP);
 * - `headerLength` / `bufferLength` to size buffers.
 *
 * Views work at any `byteOffset`: parse a frame inside a larger buffer and
 * each layer's payload is a view into the same memory.
 */
export * as Addr from "./addr.ts"
export * as Arp from "./arp.ts"
export * as Checksum from "./checksum.ts"
export * as Ethernet from "./ethernet.ts"
export * as Icmpv4 from "./icmpv4.ts"
export * as Ipv4 from "./ipv4.ts"
export * as Seq from "./seq.ts"
export * as Tcp from "./tcp.ts"
export * as Udp from "./udp.ts"
export type { Rejected } from "./result.ts"
export { isRejected } from "./result.ts"
