/**
 * Our TCP inside two complete direct stacks (ARP, IPv4) on the in-memory
 * switch, under `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
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
})
