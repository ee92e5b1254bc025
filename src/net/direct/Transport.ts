/**
 * The contract between the direct stack's IPv4 layer and the transport
 * protocols above it (UDP, TCP). Everything here is plain synchronous code
 * called from the stack's receive fiber: no Effect per packet.
 */
import type { PayloadWriter } from "../engine/packetize.ts"
import type { Ipv4 } from "../wire/addr.ts"

/** What the IPv4 layer gives a transport protocol for sending. */
export interface IpSender {
  /** Our address used as the source toward `destination`, or undefined when there is no route. */
  readonly sourceFor: (destination: Ipv4) => Ipv4 | undefined
  /** The largest transport segment (header and payload) that fits one IPv4 packet on the link. */
  readonly maxSegment: number
  /**
   * The largest TCP segment (header and payload) sent in one packet that is
   * cut into `maxSegment`-sized pieces on the way out: by the link
   * (segmentation offload) or by IPv4 just before it (software
   * segmentation); `maxSegment` when neither does.
   */
  readonly maxOffloadSegment: number
  /**
   * The largest IPv4 packet known to reach `destination` unfragmented: the
   * path MTU learned from ICMP (RFC 1191), or the link MTU. TCP sends its
   * packets that fit the link with Don't Fragment set, so that a smaller
   * hop on the path says so rather than fragmenting them.
   */
  readonly pathMtu: (destination: Ipv4) => number
  /**
   * Lower the path MTU toward `destination` to `mtu` (as a transport that
   * checked an ICMP "fragmentation needed" found); the path MTU it then has.
   */
  readonly reducePathMtu: (destination: Ipv4, mtu: number) => number
  /**
   * Send one IPv4 packet of protocol `protocol` whose payload (the transport
   * header and data, `length` bytes) `write` puts at `buffer[offset…]`, given
   * the source address it will carry (for pseudo-header checksums) and
   * whether the device completes the checksum. Larger payloads are
   * fragmented. Returns false when the packet was dropped (no
   * route, or the queue waiting for ARP is full); true when it was sent or
   * queued for ARP resolution. `ecn` is the packet's ECN codepoint (RFC 3168
   * §5: 2 for ECT(0)); 0, not ECN-capable, by default.
   */
  readonly send: (
    destination: Ipv4,
    protocol: number,
    length: number,
    write: PayloadWriter,
    ecn?: number,
  ) => boolean
  /**
   * During a received batch: have what was sent so far written before the
   * rest of the batch is handled (an ACK the peer waits on), not at its end.
   */
  readonly push?: () => void
}

/** A transport protocol plugged into the IPv4 layer. */
export interface TransportProtocol {
  /** The IPv4 protocol number (17 UDP, 6 TCP). */
  readonly protocol: number
  /**
   * One packet for us (after reassembly): its data is `packet[start, end)`
   * (read in place in the frame it came in, or a reassembled datagram),
   * valid only during the call: copy what must be kept. `nowMs` is the
   * stack clock. `checksumVerified`: the device already checked the
   * transport checksum (receive checksum offload), so it need not be summed
   * again. `ecn` is the packet's ECN codepoint (RFC 3168 §5: 3 when a router
   * marked it Congestion Experienced).
   */
  readonly input: (
    source: Ipv4,
    destination: Ipv4,
    packet: Uint8Array,
    start: number,
    end: number,
    nowMs: number,
    checksumVerified: boolean,
    ecn: number,
  ) => void
  /**
   * Called before the packets of one received batch of frames are delivered,
   * and `endBatch` after them (even when a packet's handling threw): a
   * transport may hold back what its input would send until the batch is
   * over (TCP sends one ACK for the batch rather than one per two segments).
   */
  readonly beginBatch?: () => void
  readonly endBatch?: (nowMs: number) => void
  /**
   * An ICMP destination unreachable (code `code`, from `reporter`) about a
   * packet of this protocol we sent from `source` to `destination`;
   * `quoted` is the start of its transport header and data as the ICMP
   * message quotes them (8 bytes or more), a view valid only during the
   * call. What to do about it is the transport's call (RFC 1122 §4.2.3.9).
   * For "fragmentation needed", `mtu` is the MTU the router announced (or
   * RFC 1191's guess from the quoted packet's length); 0 for other codes.
   */
  readonly icmpUnreachable?: (source: Ipv4, destination: Ipv4, quoted: Uint8Array, code: number, reporter: Ipv4, nowMs: number, mtu: number) => void
}
