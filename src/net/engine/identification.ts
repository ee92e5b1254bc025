/**
 * IPv4 identification values (RFC 7739 §5.3.2, the hash-based algorithm):
 * a table of counters, each starting at a random value, shared by the
 * (source, destination, protocol) triples a keyed hash puts in its bucket,
 * plus a per-triple offset from the same hash. Every triple sees its own
 * increasing sequence, unique for 65536 packets as reassembly needs, while
 * packets to other hosts (almost never in the same bucket) leave it alone:
 * an observer cannot count what we send elsewhere, so we cannot serve as the
 * "zombie" of an idle scan (nmap -sI), and cannot guess the values another
 * host gets. The hash is HalfSipHash-2-4 under a 64-bit key.
 */
import { halfSipHash } from "./halfSipHash.ts"

/** Counters in the table (a power of two: the hash's low bits pick one). */
const BUCKETS = 2048

/** Hands out identification values. */
export class Identification {
  private readonly counters = new Uint16Array(BUCKETS)
  private readonly k0: number
  private readonly k1: number
  /** The last triple's bucket and offset: a flow's packets hash once. */
  private lastProtocol = -1
  private lastSource = 0
  private lastDestination = 0
  private lastBucket = 0
  private lastOffset = 0

  /** Keyed and the counters seeded from `random` (32-bit values). */
  constructor(random: () => number) {
    this.k0 = random() >>> 0
    this.k1 = random() >>> 0
    for (let i = 0; i < BUCKETS; i++) this.counters[i] = random()
  }

  /**
   * The identification for the next packet from `source` to `destination`
   * of `protocol`; the `count` values from it are taken (a packet the device
   * cuts into that many segments numbers them on from it).
   */
  next(source: number, destination: number, protocol: number, count = 1): number {
    if (protocol !== this.lastProtocol || source !== this.lastSource || destination !== this.lastDestination) {
      const h = halfSipHash(this.k0, this.k1, [source, destination, protocol])
      this.lastProtocol = protocol
      this.lastSource = source
      this.lastDestination = destination
      this.lastBucket = h & (BUCKETS - 1)
      this.lastOffset = h >>> 16
    }
    const first = this.counters[this.lastBucket]!
    this.counters[this.lastBucket] = first + count
    return (first + this.lastOffset) & 0xffff
  }
}
