/**
 * SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, its
 * SYN-ACK keeps no state. What the handshake needs travels in the SYN-ACK
 * and comes back in the peer's ACK:
 * - the sequence number (the cookie) carries a counter of 64-second periods
 *   and an index into a table of MSS values, added to keyed hashes of the
 *   4-tuple, the counter and the peer's ISN: a segment from further on in
 *   the peer's stream (its ISN taken as its sequence number less one, too
 *   large) does not pass for the handshake's ACK;
 * - with timestamps, the low 6 bits of the SYN-ACK's TSval carry the peer's
 *   window scale and SACK-permitted, echoed in the ACK's TSecr. Without
 *   timestamps, the SYN-ACK offers neither, since nothing would bring them
 *   back.
 * A cookie is good for the period it was made in and the next one. A forged
 * ACK passes with odds of about 1 in 2^21 (as with Linux's cookies). The
 * hash is HalfSipHash-2-4 under 128 bits drawn on first use.
 */
import type { Options } from "../wire/tcp.ts"
import { MAX_WINDOW_SCALE } from "../wire/tcp.ts"
import { halfSipHash } from "../engine/halfSipHash.ts"

/** The MSS values a cookie can carry: common paths (RFC 879's default, IPv6 tunnels, PPPoE, Ethernet). */
export const COOKIE_MSS: ReadonlyArray<number> = [536, 1300, 1440, 1460]

/** Milliseconds per counter period. */
const PERIOD_MS = 64_000

/** A cookie is accepted in the period it was made in and in the next one. */
const MAX_AGE = 2

/** How long after a listener last sent a cookie an ACK may still return one. */
export const COOKIE_LIFETIME_MS = MAX_AGE * PERIOD_MS

/** Low bits of the cookie: hash plus MSS index. */
const DATA_BITS = 24
const DATA_MASK = (1 << DATA_BITS) - 1

/** Low bits of the TSval: window scale (4 bits, 15 for none), SACK-permitted (1 bit), one unused. */
const TS_OPTION_BITS = 6
const NO_WINDOW_SCALE = 0xf
const SACK_BIT = 0x10

/** The options of `syn` that survive a cookie: MSS rounded down to the table, window scale and SACK only with timestamps. */
export const cookieOptions = (syn: Options): Options => {
  const ts = syn.timestamps
  return {
    mss: COOKIE_MSS[mssIndex(syn.mss ?? 536)],
    windowScale: ts === undefined ? undefined : syn.windowScale,
    sackPermitted: ts !== undefined && syn.sackPermitted,
    sack: undefined,
    timestamps: ts,
  }
}

/** The largest table entry not above `mss` (the first when all are). */
const mssIndex = (mss: number): number => {
  let i = COOKIE_MSS.length - 1
  while (i > 0 && COOKIE_MSS[i]! > mss) i--
  return i
}

/** Makes and checks cookies with a secret of its own. */
export class SynCookies {
  private readonly random: () => number
  private key: [number, number, number, number] | undefined

  constructor(random: () => number) {
    this.random = random
  }

  /** The ISS for a SYN from `remote:remotePort` with ISN `peerIsn` to `local:localPort`, carrying `mss` (a `COOKIE_MSS` entry). */
  make(local: number, localPort: number, remote: number, remotePort: number, peerIsn: number, mss: number, now: number): number {
    const count = period(now)
    const data = (this.hash2(local, localPort, remote, remotePort, peerIsn, count) + mssIndex(mss)) & DATA_MASK
    return (this.hash1(local, localPort, remote, remotePort) + ((count << DATA_BITS) >>> 0) + data) >>> 0
  }

  /** The MSS a returned cookie (the ACK's acknowledgment number less one) carries, or undefined if it is not one of ours or too old. */
  check(local: number, localPort: number, remote: number, remotePort: number, peerIsn: number, cookie: number, now: number): number | undefined {
    const rest = (cookie - this.hash1(local, localPort, remote, remotePort)) >>> 0
    const count = period(now)
    const age = (count - (rest >>> DATA_BITS)) & 0xff
    if (age >= MAX_AGE) return undefined
    const index = (rest - this.hash2(local, localPort, remote, remotePort, peerIsn, (count - age) & 0xff)) & DATA_MASK
    return COOKIE_MSS[index]
  }

  private secret(): [number, number, number, number] {
    return this.key ??= [this.random() >>> 0, this.random() >>> 0, this.random() >>> 0, this.random() >>> 0]
  }

  private hash1(local: number, localPort: number, remote: number, remotePort: number): number {
    const [k0, k1] = this.secret()
    return halfSipHash(k0, k1, [local, remote, (localPort << 16) | remotePort])
  }

  private hash2(local: number, localPort: number, remote: number, remotePort: number, peerIsn: number, count: number): number {
    const [, , k2, k3] = this.secret()
    return halfSipHash(k2, k3, [local, remote, (localPort << 16) | remotePort, peerIsn, count])
  }
}

/** The counter of periods at `now`, 8 bits (what fits above the cookie's data bits). */
const period = (now: number): number => Math.floor(now / PERIOD_MS) & 0xff

/**
 * The TSval of a cookie SYN-ACK: `tsVal` with its low bits replaced by the
 * window scale and SACK-permitted of `options`, never above `tsVal` (the
 * echo must not look like it comes from the future).
 */
export const encodeTsVal = (tsVal: number, options: Options): number => {
  const bits = (options.windowScale === undefined ? NO_WINDOW_SCALE : Math.min(options.windowScale, MAX_WINDOW_SCALE)) |
    (options.sackPermitted ? SACK_BIT : 0)
  const encoded = ((tsVal & ~((1 << TS_OPTION_BITS) - 1)) | bits) >>> 0
  return encoded > tsVal >>> 0 ? (encoded - (1 << TS_OPTION_BITS)) >>> 0 : encoded
}

/** The options a cookie's ACK brings back: `mss` from the cookie, the rest from the echoed TSval (none without timestamps). */
export const decodeOptions = (mss: number, ack: Options): Options => {
  const ts = ack.timestamps
  if (ts === undefined) return { mss, windowScale: undefined, sackPermitted: false, sack: undefined, timestamps: undefined }
  const scale = ts.tsEcr & 0xf
  return {
    mss,
    windowScale: scale === NO_WINDOW_SCALE ? undefined : scale,
    sackPermitted: (ts.tsEcr & SACK_BIT) !== 0,
    sack: undefined,
    timestamps: ts,
  }
}
