import { Effect } from "effect"
import type { Flow } from "../../src/net/Stack.ts"

/**
 * Reads `flow` to its end alternating `readInto` a small reused buffer with
 * plain `read`s, checking each `readInto` count; returns every byte in order
 * and the number of `readInto` calls that filled the buffer. Fails if a
 * count is out of range, or if the end of stream does not stay the end.
 */
export const readMixed = (flow: Flow, bufferSize: number) =>
  Effect.gen(function* () {
    const buffer = new Uint8Array(bufferSize)
    const parts: Array<Uint8Array> = []
    let filled = 0
    for (let i = 0; ; i++) {
      if (i % 3 === 2) {
        const data = yield* flow.read
        if (data === undefined) break
        parts.push(data)
        continue
      }
      const n = yield* flow.readInto(buffer)
      if (n === undefined) break
      if (n < 1 || n > bufferSize) throw new Error(`readInto returned ${n} for a ${bufferSize}-byte buffer`)
      if (n === bufferSize) filled++
      parts.push(buffer.slice(0, n))
    }
    const again = yield* flow.readInto(buffer)
    if (again !== undefined) throw new Error(`readInto after the end of stream returned ${again}`)
    const empty = yield* flow.readInto(new Uint8Array(0))
    if (empty !== 0) throw new Error(`readInto of an empty buffer returned ${empty}`)
    return { bytes: Buffer.concat(parts), filled }
  })
