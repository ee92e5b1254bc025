/**
 * Our TCP inside two complete direct stacks (ARP, IPv4) on the in-memory
 * switch, under `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Stream } from "effect"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import { toSink } from "../../../src/net/FlowSink.ts"
import { stackOn } from "../direct/stacks.ts"
import { drive } from "./linked.ts"
import { pattern } from "./transfer.ts"

describe("TCP in the direct stack", () => {
  it.effect("echoes 200 KB between two direct stacks on the switch", () =>
    drive(Effect.gen(function* () {
      const sw = yield* Switch.make()
      const { stack: a } = yield* stackOn(sw, { cidr: "10.0.0.2/24" })
      const { stack: b } = yield* stackOn(sw, { cidr: "10.0.0.3/24" })
      yield* b.tcp.listen(7, (flow) => Stream.run(flow.stream, toSink(flow)).pipe(Effect.andThen(flow.shutdown), Effect.orDie))
      const flow = yield* a.tcp.connect({ address: "10.0.0.3", port: 7 })
      const data = pattern(200_000, 4)
      yield* Effect.forkChild(flow.write(data).pipe(Effect.andThen(flow.shutdown)))
      const back = yield* Stream.runCollect(flow.stream)
      expect(Buffer.concat([...back]).equals(Buffer.from(data))).toBe(true)
    }).pipe(Effect.scoped)))

  it.effect("carries 2 MB intact over a link that loses, reorders, duplicates and corrupts frames, cut by software segmentation", () =>
    drive(Effect.gen(function* () {
      const sw = yield* Switch.make({ seed: 11, loss: 0.03, reorder: 0.03, duplicate: 0.02, corrupt: 0.01, delay: "1 millis" })
      const { stack: a, ip } = yield* stackOn(sw, { cidr: "10.0.0.2/24" })
      const { stack: b } = yield* stackOn(sw, { cidr: "10.0.0.3/24" })
      const data = pattern(2_000_000, 9)
      const received = yield* Deferred.make<Uint8Array>()
      yield* b.tcp.listen(9, (flow) =>
        Stream.runCollect(flow.stream).pipe(Effect.flatMap((chunks) => Deferred.succeed(received, Buffer.concat([...chunks]))), Effect.orDie))
      const flow = yield* a.tcp.connect({ address: "10.0.0.3", port: 9 })
      yield* flow.write(data)
      yield* flow.shutdown
      expect(Buffer.from(yield* Deferred.await(received)).equals(Buffer.from(data))).toBe(true)
      // Most of what went out was cut from TCP's bursts here, each segment with its own checksum (a corrupt one is dropped).
      expect((yield* ip.stats).ip.segmentsCut).toBeGreaterThan(2_000_000 / 1448 / 2)
    }).pipe(Effect.scoped)))
})
