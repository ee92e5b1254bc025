/**
 * Our TCP inside two complete direct stacks (ARP, IPv4) on the in-memory
 * switch, under `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import type { Ipv4Config } from "../../../src/net/direct/Config.ts"
import { layerDirectWith } from "../../../src/net/direct/DirectStack.ts"
import { Switch } from "../../../src/net/NetifSwitch.ts"
import { Stack } from "../../../src/net/Stack.ts"
import { layerTcp } from "../../../src/net/tcp/layer.ts"
import { toSink } from "../../../src/net/FlowSink.ts"
import { drive } from "./linked.ts"
import { pattern } from "./transfer.ts"

const stackOn = (sw: Switch, config: Ipv4Config) =>
  Effect.map(Layer.build(layerDirectWith(config, layerTcp()).pipe(Layer.provide(sw.layer({})))), (context) =>
    Context.get(context, Stack))

describe("TCP in the direct stack", () => {
  it.effect("echoes 200 KB between two direct stacks on the switch", () =>
    drive(Effect.gen(function* () {
      const sw = yield* Switch.make()
      const a = yield* stackOn(sw, { cidr: "10.0.0.2/24" })
      const b = yield* stackOn(sw, { cidr: "10.0.0.3/24" })
      yield* b.tcp.listen(7, (flow) => Stream.run(flow.stream, toSink(flow)).pipe(Effect.andThen(flow.shutdown), Effect.orDie))
      const flow = yield* a.tcp.connect({ address: "10.0.0.3", port: 7 })
      const data = pattern(200_000, 4)
      yield* Effect.forkChild(flow.write(data).pipe(Effect.andThen(flow.shutdown)))
      const back = yield* Stream.runCollect(flow.stream)
      expect(Buffer.concat([...back]).equals(Buffer.from(data))).toBe(true)
    }).pipe(Effect.scoped)))
})
