/**
 * The retransmission timeout (RFC 6298): SRTT and RTTVAR from RTT samples,
 * RTO = SRTT + max(G, 4·RTTVAR) within [min, max], doubled on each expiry
 * (exponential backoff) until the next sample; and the minimum RTT over
 * the last five minutes (RFC 8985's RACK.min_RTT, windowed as Linux's
 * `tcp_min_rtt_wlen`, so that a path that grew longer is followed). Which
 * samples to take (Karn's rule, or timestamps per RFC 7323 §4) is the
 * caller's business.
 */
import { WindowedMin } from "./windowedMin.ts"

/** The clock granularity G assumed, in ms. */
const GRANULARITY_MS = 1
/** The window of the minimum RTT, in ms. */
const MIN_RTT_WINDOW_MS = 300_000

/** RFC 6298 estimator state for one connection. */
export class RttEstimator {
  /** Smoothed RTT, `undefined` before the first sample. */
  srtt: number | undefined = undefined
  /** RTT variation. */
  rttvar = 0
  private readonly minimum = new WindowedMin(MIN_RTT_WINDOW_MS)
  private base: number
  private backoffs = 0
  private readonly minMs: number
  private readonly maxMs: number

  constructor(initialMs: number, minMs: number, maxMs: number) {
    this.base = initialMs
    this.minMs = minMs
    this.maxMs = maxMs
  }

  /** The smallest sample of the last five minutes (RACK.min_RTT), `Infinity` before the first. */
  get min(): number {
    return this.minimum.value
  }

  /** The current timeout, backoff included. */
  get rto(): number {
    return Math.min(this.maxMs, this.base * 2 ** this.backoffs)
  }

  /** Take an RTT measurement made at `now` (RFC 6298 (2.2), (2.3)); clears the backoff. */
  sample(rttMs: number, now: number): void {
    const r = Math.max(0, rttMs)
    this.minimum.update(r, now)
    if (this.srtt === undefined) {
      this.srtt = r
      this.rttvar = r / 2
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r)
      this.srtt = 0.875 * this.srtt + 0.125 * r
    }
    this.base = Math.min(this.maxMs, Math.max(this.minMs, this.srtt + Math.max(GRANULARITY_MS, 4 * this.rttvar)))
    this.backoffs = 0
  }

  /** The timer expired: double the timeout (RFC 6298 (5.5)). */
  backoff(): void {
    if (this.rto < this.maxMs) this.backoffs++
  }
}
