/**
 * The `Random` device: random bytes (MirageOS `Mirage_random`).
 */
import { Context, Effect, Layer } from "effect"

/** A source of random bytes. */
export class Random extends Context.Service<Random, {
  /** `n` fresh random bytes. */
  readonly bytes: (n: number) => Effect.Effect<Uint8Array>
}>()("effect-uk/Random") {
  /** Cryptographically strong bytes from the host (`crypto.getRandomValues`). */
  static readonly layer: Layer.Layer<Random> = Layer.succeed(Random, Random.of({
    bytes: (n) => Effect.sync(() => fillRandom(new Uint8Array(n))),
  }))

  /** A deterministic stream of bytes from a 32-bit seed (xorshift32): for tests only. */
  static readonly layerSeeded = (seed: number): Layer.Layer<Random> => Layer.sync(Random, () => {
    let state = seed >>> 0 || 0x9e3779b9
    return Random.of({
      bytes: (n) => Effect.sync(() => {
        const out = new Uint8Array(n)
        for (let i = 0; i < n; i++) {
          state ^= state << 13
          state ^= state >>> 17
          state ^= state << 5
          state >>>= 0
          out[i] = state & 0xff
        }
        return out
      }),
    })
  })
}

/** `crypto.getRandomValues` fills at most 65,536 bytes per call. */
const fillRandom = (buffer: Uint8Array): Uint8Array => {
  for (let offset = 0; offset < buffer.length; offset += 65536) {
    globalThis.crypto.getRandomValues(buffer.subarray(offset, offset + 65536))
  }
  return buffer
}
