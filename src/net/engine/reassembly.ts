/**
 * IPv4 reassembly (RFC 791 §3.2, RFC 815) with bounded memory and time, as a
 * synchronous state machine: `add` takes a parsed fragment and `now`, and
 * returns the datagram once complete.
 *
 * Datagrams are keyed by (source, destination, protocol, identification).
 * A datagram is abandoned when it has more than `maxFragments` pieces, when
 * it is not complete `timeoutMs` after its first fragment, or when fragments
 * overlap (RFC 5722's rule, as Linux applies it to IPv4 since FragmentSmack):
 * an exact duplicate of a piece is ignored, any other overlap drops the
 * whole datagram. At most `maxDatagrams` datagrams and `maxBytes` of
 * fragment data are held; beyond that the oldest datagrams are evicted.
 * `expire` gives back the timed-out datagrams whose first fragment had
 * arrived, for the ICMP time exceeded RFC 1122 §3.3.2 asks for.
 */
import { MAX_PACKET_LENGTH } from "../wire/ipv4.ts"
import type { Packet } from "../wire/ipv4.ts"

/** Bounds of the reassembly buffer. */
export interface ReassemblyLimits {
  /** Pieces per datagram (default 16, as mirage-tcpip). */
  readonly maxFragments: number
  /** Time from a datagram's first fragment to its abandonment, in ms (default 10 s). */
  readonly timeoutMs: number
  /** Fragment data held over all datagrams (default 1 MiB). */
  readonly maxBytes: number
  /** Datagrams being reassembled at once (default 64). */
  readonly maxDatagrams: number
}

/** The defaults of `ReassemblyLimits`. */
export const defaultReassemblyLimits: ReassemblyLimits = {
  maxFragments: 16,
  timeoutMs: 10_000,
  maxBytes: 1 << 20,
  maxDatagrams: 64,
}

/** A reassembled datagram. */
export interface Reassembled {
  /** A copy of the first fragment's IP header (for ICMP quotes). */
  readonly header: Uint8Array
  /** The whole payload, in a buffer of its own. */
  readonly payload: Uint8Array
}

/** A datagram abandoned at its timeout, whose first fragment had arrived. */
export interface TimedOut {
  /** A copy of the first fragment's IP header. */
  readonly header: Uint8Array
  /** The first fragment's data (at least 8 bytes unless the datagram is shorter: the part an ICMP error quotes). */
  readonly leading: Uint8Array
}

/** Counters of the reassembly buffer. */
export interface ReassemblyStats {
  reassembled: number
  /** Exact duplicates of a piece, ignored. */
  duplicates: number
  /** Datagrams dropped for overlapping or inconsistent fragments. */
  overlaps: number
  /** Datagrams dropped for having too many fragments. */
  tooManyFragments: number
  /** Fragments refused as malformed (empty, misaligned, beyond 64 KiB). */
  malformed: number
  /** Datagrams evicted to stay within `maxBytes` / `maxDatagrams`. */
  evicted: number
  /** Datagrams abandoned after `timeoutMs`. */
  timedOut: number
}

interface Piece {
  readonly offset: number
  readonly data: Uint8Array
}

interface Datagram {
  readonly deadline: number
  readonly pieces: Array<Piece>
  bytes: number
  /** The payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number
  header: Uint8Array | undefined
}

/** The reassembly buffer of one IPv4 layer. */
export class Reassembly {
  /** Counters since creation. */
  readonly stats: ReassemblyStats = {
    reassembled: 0, duplicates: 0, overlaps: 0, tooManyFragments: 0, malformed: 0, evicted: 0, timedOut: 0,
  }
  private readonly limits: ReassemblyLimits
  /** In creation order, which is also deadline order. */
  private readonly datagrams = new Map<string, Datagram>()
  private heldBytes = 0

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...defaultReassemblyLimits, ...limits }
  }

  /** Datagrams being reassembled. */
  get size(): number {
    return this.datagrams.size
  }

  /** Fragment data held, in bytes. */
  get bytes(): number {
    return this.heldBytes
  }

  /**
   * Add a fragment (a packet with MF set or a non-zero offset); `header` is
   * its IP header bytes. Returns the datagram when this fragment completes it.
   */
  add(packet: Packet, header: Uint8Array, now: number): Reassembled | undefined {
    const data = packet.payload
    const offset = packet.fragmentOffset
    const end = offset + data.length
    const key = `${packet.source}/${packet.destination}/${packet.protocol}/${packet.identification}`
    if (data.length === 0 || (packet.moreFragments && (data.length & 7) !== 0) ||
      end > MAX_PACKET_LENGTH - packet.headerLength || data.length > this.limits.maxBytes) {
      this.stats.malformed++
      return undefined
    }
    let datagram = this.datagrams.get(key)
    if (datagram === undefined) {
      this.makeRoom(data.length, undefined)
      datagram = { deadline: now + this.limits.timeoutMs, pieces: [], bytes: 0, total: -1, header: undefined }
      this.datagrams.set(key, datagram)
    } else if (this.heldBytes + data.length > this.limits.maxBytes) {
      this.makeRoom(data.length, datagram)
      if (this.heldBytes + data.length > this.limits.maxBytes) return this.drop(key, datagram, "evicted")
    }
    for (const piece of datagram.pieces) {
      const pieceEnd = piece.offset + piece.data.length
      if (piece.offset === offset && pieceEnd === end) {
        this.stats.duplicates++
        return undefined
      }
      if (offset < pieceEnd && piece.offset < end) return this.drop(key, datagram, "overlaps")
    }
    if (!packet.moreFragments) {
      if (datagram.total !== -1) return this.drop(key, datagram, "overlaps")
      for (const piece of datagram.pieces) if (piece.offset + piece.data.length > end) return this.drop(key, datagram, "overlaps")
      datagram.total = end
    } else if (datagram.total !== -1 && end > datagram.total) {
      return this.drop(key, datagram, "overlaps")
    }
    if (datagram.pieces.length >= this.limits.maxFragments) return this.drop(key, datagram, "tooManyFragments")
    datagram.pieces.push({ offset, data: data.slice() })
    datagram.bytes += data.length
    this.heldBytes += data.length
    if (offset === 0) datagram.header = header.slice()
    if (datagram.bytes !== datagram.total || datagram.header === undefined) return undefined
    // No overlaps and every piece inside [0, total): the bytes add up only when the pieces cover it all.
    const payload = new Uint8Array(datagram.total)
    for (const piece of datagram.pieces) payload.set(piece.data, piece.offset)
    this.remove(key, datagram)
    this.stats.reassembled++
    return { header: datagram.header, payload }
  }

  /** Abandon the datagrams whose time is up; returns those whose first fragment had arrived. */
  expire(now: number): ReadonlyArray<TimedOut> {
    const timedOut: Array<TimedOut> = []
    for (const [key, datagram] of this.datagrams) {
      if (datagram.deadline > now) break
      this.drop(key, datagram, "timedOut")
      const first = datagram.pieces.find((piece) => piece.offset === 0)
      if (datagram.header !== undefined && first !== undefined) timedOut.push({ header: datagram.header, leading: first.data })
    }
    return timedOut
  }

  /** When `expire` has work next, or undefined when nothing is held. */
  nextDeadline(): number | undefined {
    return this.datagrams.values().next().value?.deadline
  }

  /** Evicts the oldest datagrams (other than `keep`) until `incoming` more bytes and one more datagram fit. */
  private makeRoom(incoming: number, keep: Datagram | undefined): void {
    for (const [key, datagram] of this.datagrams) {
      const full = this.heldBytes + incoming > this.limits.maxBytes ||
        (keep === undefined && this.datagrams.size >= this.limits.maxDatagrams)
      if (!full) return
      if (datagram !== keep) this.drop(key, datagram, "evicted")
    }
  }

  private drop(key: string, datagram: Datagram, reason: "overlaps" | "tooManyFragments" | "evicted" | "timedOut"): undefined {
    this.stats[reason]++
    this.remove(key, datagram)
    return undefined
  }

  private remove(key: string, datagram: Datagram): void {
    this.datagrams.delete(key)
    this.heldBytes -= datagram.bytes
  }
}
