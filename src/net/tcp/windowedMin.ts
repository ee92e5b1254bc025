/**
 * The minimum of a series over a sliding time window, in constant space
 * (Kathleen Nichols' algorithm, as Linux's `lib/minmax.c` keeps RACK's and
 * BBR's minimum RTT): the best sample, and the best ones of the later
 * quarter and half of the window, which take over as older ones age out.
 */

interface Sample {
  readonly at: number
  readonly value: number
}

/** A windowed minimum: `update` with each sample and its time, `value` the minimum over the last `windowMs`. */
export class WindowedMin {
  private best: Sample | undefined = undefined
  private second: Sample | undefined = undefined
  private third: Sample | undefined = undefined
  private readonly windowMs: number

  constructor(windowMs: number) {
    this.windowMs = windowMs
  }

  /** The minimum over the window, `Infinity` before the first sample. */
  get value(): number {
    return this.best?.value ?? Number.POSITIVE_INFINITY
  }

  /** Take `value`, measured at `at` (ms, not decreasing from call to call). */
  update(value: number, at: number): void {
    const sample = { at, value }
    const { best, second, third } = this
    if (best === undefined || second === undefined || third === undefined || value <= best.value || at - third.at > this.windowMs) {
      this.best = this.second = this.third = sample
      return
    }
    if (value <= second.value) this.second = this.third = sample
    else if (value <= third.value) this.third = sample
    this.age(sample)
  }

  /** Moves the later bests up as the best ages out of the window, and keeps them from a later quarter and half of it. */
  private age(sample: Sample): void {
    const age = sample.at - this.best!.at
    if (age > this.windowMs) {
      this.best = this.second
      this.second = this.third
      this.third = sample
      if (sample.at - this.best!.at > this.windowMs) {
        this.best = this.second
        this.second = this.third
      }
    } else if (this.second === this.best && age > this.windowMs / 4) {
      this.second = this.third = sample
    } else if (this.third === this.second && age > this.windowMs / 2) {
      this.third = sample
    }
  }
}
