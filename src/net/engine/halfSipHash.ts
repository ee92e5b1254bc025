/**
 * HalfSipHash-2-4, the 32-bit variant of Aumasson and Bernstein's SipHash
 * (which Linux keys its ISNs, SYN cookies and IP IDs with): a keyed hash
 * that an attacker who does not know the key cannot predict, cheap enough to
 * run per packet. It keys our ISNs, SYN cookies and IPv4 identifications.
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
