/**
 * FramePool: frames are cut from slabs, and a slab is cut again (as it is,
 * not zeroed) only once every frame taken from it was released.
 */
import { describe, expect, it } from "vitest"
import { FramePool } from "../../src/net/FramePool.ts"

/** Takes frames of `size` until one comes from a slab other than `first`'s. */
const untilNextSlab = (pool: FramePool, size: number, first: Uint8Array) => {
  const taken: Array<Uint8Array> = []
  for (;;) {
    const frame = pool.take(size)
    if (frame.buffer !== first.buffer) return { taken, next: frame }
    taken.push(frame)
  }
}

/**
 * Fills a first frame with `byte`, uses its slab up and hands all of it back,
 * then uses the next slab up: the frame cut after that, and the first one.
 */
const afterFullRelease = (pool: FramePool, byte: number) => {
  const first = pool.take(65536)
  first.fill(byte)
  const { taken, next } = untilNextSlab(pool, 65536, first)
  pool.release([first, ...taken])
  return { first, third: untilNextSlab(pool, 65536, next).next }
}

describe("FramePool", () => {
  it("reuses a used-up slab once all its frames are released, with its old bytes", () => {
    const { first, third } = afterFullRelease(new FramePool(), 7)
    expect(third.buffer).toBe(first.buffer)
    expect(third[0]).toBe(7)
  })

  it("never cuts a slab again while one of its frames is out", () => {
    const pool = new FramePool()
    const first = pool.take(1500)
    const { taken, next } = untilNextSlab(pool, 1500, first)
    pool.release(taken) // `first` itself stays out
    const { next: third } = untilNextSlab(pool, 1500, next)
    expect(third.buffer).not.toBe(first.buffer)
    expect(third.buffer).not.toBe(next.buffer)
  })

  it("forgets slabs whose frames stay out too long, and still reuses the ones it tracks", () => {
    const pool = new FramePool()
    const frames: Array<Uint8Array> = []
    const slabs = new Set<ArrayBufferLike>()
    while (slabs.size < 40) {
      const frame = pool.take(65536)
      frames.push(frame)
      slabs.add(frame.buffer)
    }
    pool.release(frames) // the oldest slabs were forgotten: their frames are ignored
    const next = new Set(Array.from({ length: 64 }, () => pool.take(65536).buffer))
    expect([...next].some((buffer) => slabs.has(buffer))).toBe(true)
    expect([...next].some((buffer) => buffer === frames[0]!.buffer)).toBe(false)
  })

  it("releasing foreign buffers is harmless", () => {
    const pool = new FramePool()
    pool.release([new Uint8Array(10)])
    expect(pool.take(10).length).toBe(10)
  })
})
