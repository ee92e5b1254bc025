/**
 * Initial sequence numbers (RFC 6528): ISN = M + F(4-tuple, secret), where M
 * is a clock ticking every 4 µs and F a keyed hash, so that ISNs of one
 * 4-tuple keep increasing while an off-path attacker cannot guess another
 * tuple's. F is HalfSipHash-2-4 (the 32-bit variant of the SipHash that
 * Linux keys its ISNs with) over the three 32-bit words of the tuple, keyed
 * with 64 bits drawn once from the injected random source.
 */
import { halfSipHash } from "../engine/halfSipHash.ts"

/** Generates ISNs and timestamp offsets for 4-tuples. */
export interface IsnGenerator {
  /** The ISN for a connection at time `nowMs`. */
  readonly next: (localAddress: number, localPort: number, remoteAddress: number, remotePort: number, nowMs: number) => number
  /**
   * The offset added to the clock for a connection's TSval (RFC 7323 §7.1):
   * secret per 4-tuple but the same for every incarnation of it, so TSvals
   * keep increasing across a TIME-WAIT reuse.
   */
  readonly timestampOffset: (localAddress: number, localPort: number, remoteAddress: number, remotePort: number) => number
}

/** An ISN generator keyed by four 32-bit words from `random`, which is called four times, now. */
export const makeIsnGenerator = (random: () => number): IsnGenerator => {
  const k0 = random() >>> 0
  const k1 = random() >>> 0
  const k2 = random() >>> 0
  const k3 = random() >>> 0
  return {
    next: (localAddress, localPort, remoteAddress, remotePort, nowMs) =>
      (Math.floor(nowMs * 250) + halfSipHash(k0, k1, [localAddress, remoteAddress, (localPort << 16) | remotePort])) >>> 0,
    timestampOffset: (localAddress, localPort, remoteAddress, remotePort) =>
      halfSipHash(k2, k3, [localAddress, remoteAddress, (localPort << 16) | remotePort]),
  }
}
