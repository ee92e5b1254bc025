/**
 * Test helpers: hand-made Ethernet frames carrying a sequence number, and a
 * collector that records what a `Netif` receives.
 */
import { Clock, Effect, Stream } from "effect"
import type { Netif } from "../../../src/net/Netif.ts"

/** The broadcast MAC. */
export const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)

/** An EtherType reserved for local experiments (IEEE 802 local experimental 1). */
export const ETHERTYPE_TEST = 0x88b5

/** A frame dst|src|0x88b5|seq (u32 big-endian)|filler, `length` bytes in total. */
export const testFrame = (dst: Uint8Array, src: Uint8Array, seq: number, length = 64): Uint8Array => {
  const frame = new Uint8Array(length)
  frame.set(dst, 0)
  frame.set(src, 6)
  const view = new DataView(frame.buffer)
  view.setUint16(12, ETHERTYPE_TEST)
  view.setUint32(14, seq)
  for (let i = 18; i < length; i++) frame[i] = (seq + i) & 0xff
  return frame
}

/** The sequence number of a `testFrame`. */
export const seqOf = (frame: Uint8Array): number => new DataView(frame.buffer, frame.byteOffset).getUint32(14)

/** One received frame with the clock time (ms) of its batch. */
export interface Received {
  readonly at: number
  readonly frame: Uint8Array
}

/** Starts recording every frame `netif` receives; returns the live list. */
export const collect = (netif: Netif["Service"]) =>
  Effect.gen(function* () {
    const received: Array<Received> = []
    yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) =>
      Effect.map(Clock.currentTimeMillis, (at) => {
        for (const frame of batch) received.push({ at, frame })
      })))
    yield* settle
    return received
  })

/** Lets forked fibers run until they block (a bounded number of yields). */
export const settle: Effect.Effect<void> = Effect.forEach(Array.from({ length: 20 }), () => Effect.yieldNow, { discard: true })
