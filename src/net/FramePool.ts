/**
 * Recycled memory for frames: the transmit side of the stack cuts outgoing
 * frames from it, a device backend received batches, and both hand buffers
 * back once the device or the stack is done with them, so steady traffic
 * allocates nothing and the garbage collector stays idle.
 */
/** Bytes of a slab that frames are cut from (32 segments of 64 KiB with offload, or a few received batches). */
const SLAB = 2 * 1024 * 1024
/** Slabs kept for reuse at most. */
const SPARE_SLABS = 4

/**
 * Frame buffers, cut one after the other from large slabs: one
 * allocation per slab rather than per frame. A frame stays untouched until
 * it is handed back with `release` (after the device took it): once every
 * frame of a used-up slab is back, the slab is cut again (zeroed first if
 * the pool hands out zeroed buffers), so a
 * steady stream of frames allocates nothing (and leaves the garbage
 * collector nothing to do). Frames never released (kept, or dropped while
 * queued) just keep their slab out of reuse.
 */
export class FramePool {
  /** Whether buffers come zeroed (a reused slab is cleared first); false when every byte gets written anyway. */
  private readonly zeroed: boolean
  private slab: Uint8Array<ArrayBufferLike> = new Uint8Array(0)
  private used = 0
  /** Frames cut from each slab and not yet released. */
  private readonly outstanding = new WeakMap<ArrayBufferLike, number>()
  private readonly spare: Array<Uint8Array<ArrayBufferLike>> = []

  constructor(options: { readonly zeroed: boolean } = { zeroed: true }) {
    this.zeroed = options.zeroed
  }

  /** A buffer of `length` bytes (zeroed if the pool is), not in use elsewhere. */
  take(length: number): Uint8Array {
    if (length > SLAB / 4) return new Uint8Array(length)
    if (this.used + length > this.slab.length) {
      this.retire(this.slab)
      const spare = this.spare.pop()
      this.slab = spare === undefined ? new Uint8Array(SLAB) : this.zeroed ? spare.fill(0) : spare
      this.used = 0
    }
    const frame = this.slab.subarray(this.used, this.used + length)
    this.used += (length + 7) & ~7
    this.outstanding.set(this.slab.buffer, (this.outstanding.get(this.slab.buffer) ?? 0) + 1)
    return frame
  }

  /** Hands back frames from `take` that nothing reads or writes any more. */
  release(frames: ReadonlyArray<Uint8Array>): void {
    for (const frame of frames) {
      const count = this.outstanding.get(frame.buffer)
      if (count === undefined) continue
      this.outstanding.set(frame.buffer, count - 1)
      if (count === 1 && frame.buffer !== this.slab.buffer && this.spare.length < SPARE_SLABS) {
        this.spare.push(new Uint8Array(frame.buffer))
      }
    }
  }

  /** The current slab is used up: reusable at once if all its frames are back. */
  private retire(slab: Uint8Array): void {
    if (slab.length === SLAB && this.outstanding.get(slab.buffer) === 0 && this.spare.length < SPARE_SLABS) this.spare.push(slab)
  }
}
