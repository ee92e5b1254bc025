/**
 * The UDP engine (RFC 768) over the IPv4 layer's `TransportProtocol`
 * contract: a table of listening ports, ephemeral source ports, and the
 * dispatch of received datagrams. Synchronous; the Effect shell
 * (`direct/Udp.ts`) owns the per-port queues and handler fibers.
 */
import type { TransportProtocol } from "../direct/Transport.ts"
import type { Ipv4 } from "../wire/addr.ts"
import { UnreachableCode } from "../wire/icmpv4.ts"
import { HEADER_LENGTH, PROTOCOL, emit, parse } from "../wire/udp.ts"

/** The ephemeral port range (RFC 6335 §6). */
export const EPHEMERAL_FIRST = 49152
/** The last ephemeral port. */
export const EPHEMERAL_LAST = 65535
/** The largest UDP payload in one IPv4 datagram: 65535 − 20 (IPv4) − 8 (UDP). */
export const MAX_PAYLOAD = 65507

/** Receives the datagrams of one port; `payload` is valid only during the call. */
export type Listener = (source: Ipv4, sourcePort: number, destination: Ipv4, destinationPort: number, payload: Uint8Array) => void

/** Counters of the UDP engine. */
export interface UdpStats {
  received: number
  /** Datagrams with a bad length or checksum. */
  malformed: number
  /** Datagrams to a port nobody listens on. */
  noListener: number
}

/** A UDP engine; `unreachable` answers the datagram being delivered with an ICMP destination unreachable. */
export class UdpEngine implements TransportProtocol {
  /** UDP's IPv4 protocol number. */
  readonly protocol = PROTOCOL
  /** Counters since creation. */
  readonly stats: UdpStats = { received: 0, malformed: 0, noListener: 0 }
  private readonly listeners = new Map<number, Listener>()
  private readonly unreachable: (code: number) => void
  private nextEphemeral: number

  /** `seed` (any integer) picks where ephemeral ports start. */
  constructor(unreachable: (code: number) => void, seed: number) {
    this.unreachable = unreachable
    this.nextEphemeral = EPHEMERAL_FIRST + (Math.abs(seed) % (EPHEMERAL_LAST - EPHEMERAL_FIRST + 1))
  }

  /** Listen on `port`; false when it is taken. */
  bind(port: number, listener: Listener): boolean {
    if (this.listeners.has(port)) return false
    this.listeners.set(port, listener)
    return true
  }

  /** Stop listening on `port` (only if `listener` holds it). */
  unbind(port: number, listener: Listener): void {
    if (this.listeners.get(port) === listener) this.listeners.delete(port)
  }

  /** An ephemeral port nobody listens on (the next in turn), or undefined when all are taken. */
  ephemeral(): number | undefined {
    for (let tries = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1; tries > 0; tries--) {
      const port = this.nextEphemeral
      this.nextEphemeral = port === EPHEMERAL_LAST ? EPHEMERAL_FIRST : port + 1
      if (!this.listeners.has(port)) return port
    }
    return undefined
  }

  /** One UDP datagram, `packet[start, end)`, from the IPv4 layer (`checksumVerified`: the device checked it; the time is not used). */
  input(source: Ipv4, destination: Ipv4, packet: Uint8Array, start: number, end: number, _nowMs: number, checksumVerified: boolean): void {
    const datagram = parse(packet.subarray(start, end), source, destination, !checksumVerified)
    if (datagram._tag === "Rejected") {
      this.stats.malformed++
      return
    }
    const listener = this.listeners.get(datagram.destinationPort)
    if (listener === undefined) {
      this.stats.noListener++
      this.unreachable(UnreachableCode.Port)
      return
    }
    this.stats.received++
    listener(source, datagram.sourcePort, destination, datagram.destinationPort, datagram.payload)
  }
}

/** The IPv4 payload length of a datagram carrying `payloadLength` bytes. */
export const datagramLength = (payloadLength: number): number => HEADER_LENGTH + payloadLength

/** A writer of a datagram for `IpSender.send`, with its checksum over the pseudo-header (unless the device computes it). */
export const writeDatagram = (sourcePort: number, destination: Ipv4, destinationPort: number, payload: Uint8Array) =>
(buffer: Uint8Array, offset: number, source: Ipv4, deviceChecksums: boolean): void => {
  buffer.set(payload, offset + HEADER_LENGTH)
  emit({ sourcePort, destinationPort, payloadLength: payload.length }, buffer, offset, source, destination, !deviceChecksums)
}
