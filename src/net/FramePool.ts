/**
 * Recycled memory for frames: the transmit side of the stack cuts outgoing
 * frames from it, a device backend received batches, and both hand buffers
 * back once the device or the stack is done with them, so steady traffic
 * allocates nothing and the garbage collector stays idle.
 */
import { simdSlab } from "./wire/simd.ts"

/** Bytes of a slab that frames are cut from (32 segments of 64 KiB with offload, or a few received batches). */
const SLAB = 2 * 1024 * 1024
/** Slabs kept for reuse at most. */
const SPARE_SLABS = 4

/** Slabs with frames out that the pool keeps track of; past this, the oldest is forgotten (its frames were likely dropped). */
const TRACKED_SLABS = 16

/** A slab and how many frames cut from it are not back yet. */
interface Slab {
  readonly bytes: Uint8Array<ArrayBufferLike>
  outstanding: number
}

/**
 * Frame buffers, cut one after the other from large slabs: one
 * allocation per slab rather than per frame. A frame stays untouched until
 * it is handed back with `release` (after the device took it): once every
 * frame of a used-up slab is back, the slab is cut again as it is, so a
 * steady stream of frames allocates nothing (and leaves the garbage
 * collector nothing to do). A reused frame holds the bytes of older ones:
 * whoever takes a frame writes every byte of it (the emitters of `wire` do,
 * test/net/direct/frameBytes.test.ts checks), so nothing is zeroed.
 * Frames never released (kept, or dropped while queued) just keep their
 * slab out of reuse; the pool forgets such a slab after a while, and the
 * garbage collector takes it with its last frame.
 */
export class FramePool {
  private current: Slab = { bytes: new Uint8Array(0), outstanding: 0 }
  private used = 0
  /** Used-up slabs with frames still out, oldest first (the current slab is not among them). */
  private readonly draining: Array<Slab> = []
  private readonly spare: Array<Uint8Array<ArrayBufferLike>> = []

  /** A buffer of `length` bytes (not zeroed: it may hold an older frame's bytes), not in use elsewhere. */
  take(length: number): Uint8Array {
    if (length > SLAB / 4) return new Uint8Array(length)
    let slab = this.current
    if (this.used + length > slab.bytes.length) slab = this.nextSlab()
    const frame = slab.bytes.subarray(this.used, this.used + length)
    this.used += (length + 7) & ~7
    slab.outstanding++
    return frame
  }

  /** Hands back frames from `take` that nothing reads or writes any more. */
  release(frames: ReadonlyArray<Uint8Array>): void {
    for (const frame of frames) {
      const buffer = frame.buffer
      if (buffer === this.current.bytes.buffer) {
        this.current.outstanding--
        continue
      }
      const draining = this.draining
      for (let i = 0; i < draining.length; i++) {
        const slab = draining[i]!
        if (slab.bytes.buffer !== buffer) continue
        if (--slab.outstanding === 0) {
          draining.splice(i, 1)
          this.keep(slab.bytes)
        }
        break
      }
    }
  }

  /** Retires the used-up current slab and starts cutting a fresh or spare one. */
  private nextSlab(): Slab {
    const old = this.current
    if (old.outstanding === 0) this.keep(old.bytes)
    else if (old.bytes.length > 0 && this.draining.push(old) > TRACKED_SLABS) this.draining.shift()
    const spare = this.spare.pop()
    this.current = { bytes: spare ?? simdSlab(SLAB), outstanding: 0 }
    this.used = 0
    return this.current
  }

  /** Keeps a slab with no frames out for reuse, if there is room. */
  private keep(bytes: Uint8Array<ArrayBufferLike>): void {
    if (bytes.length === SLAB && this.spare.length < SPARE_SLABS) this.spare.push(bytes)
  }
}
