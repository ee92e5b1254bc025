/**
 * A token bucket (RFC 4443 §2.4(f) recommends one for ICMP errors): `burst`
 * tokens at most, refilled at `perSecond`; each event takes one, and an
 * event that finds the bucket empty is refused. Time is passed in, in
 * milliseconds, by the caller.
 */

/** A rate with a burst allowance. */
export interface RateLimit {
  /** Events per second, sustained. */
  readonly perSecond: number
  /** Events allowed at once after a quiet spell. */
  readonly burst: number
}

/** Counts tokens for one rate limit. */
export class TokenBucket {
  private readonly limit: RateLimit
  private tokens: number
  private at = 0

  constructor(limit: RateLimit) {
    this.limit = limit
    this.tokens = limit.burst
  }

  /** Takes a token at `now` if there is one. */
  take(now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.perSecond) / 1000)
      this.at = now
    }
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}
