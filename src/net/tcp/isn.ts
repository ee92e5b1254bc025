/**
 * Initial sequence numbers (RFC 6528): ISN = M + F(4-tuple, secret), where M
 * is a clock ticking every 4 µs and F a keyed hash, so that ISNs of one
 * 4-tuple keep increasing while an off-path attacker cannot guess another
 * tuple's. F is HalfSipHash-2-4 (the 32-bit SipHash that Linux also keys its
 * ISNs with) over the three 32-bit words of the tuple, keyed with 64 bits
 * drawn once from the injected random source.
 */

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b))

/** HalfSipHash-2-4 of the 32-bit words `words` under the key (`k0`, `k1`). */
export const halfSipHash = (k0: number, k1: number, words: ReadonlyArray<number>): number => {
  let v0 = k0 | 0
  let v1 = k1 | 0
  let v2 = (0x6c796765 ^ k0) | 0
  let v3 = (0x74656462 ^ k1) | 0
  const round = () => {
    v0 = (v0 + v1) | 0
    v1 = rotl(v1, 5) ^ v0
    v0 = rotl(v0, 16)
    v2 = (v2 + v3) | 0
    v3 = rotl(v3, 8) ^ v2
    v0 = (v0 + v3) | 0
    v3 = rotl(v3, 7) ^ v0
    v2 = (v2 + v1) | 0
    v1 = rotl(v1, 13) ^ v2
    v2 = rotl(v2, 16)
  }
  const absorb = (m: number) => {
    v3 ^= m
    round()
    round()
    v0 ^= m
  }
  for (const word of words) absorb(word)
  absorb((words.length * 4) << 24)
  v2 ^= 0xff
  round()
  round()
  round()
  round()
  return (v1 ^ v3) >>> 0
}

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
