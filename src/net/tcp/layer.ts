/**
 * Our TCP as the direct stack's `DirectTcp`: `layerDirectWith(config,
 * layerTcp())` gives a direct stack whose `Stack.tcp` is this engine,
 * registered with the `IpLayer` as protocol 6.
 */
import { Effect, Layer } from "effect"
import { DirectTcp } from "../direct/DirectTcp.ts"
import { IpLayer } from "../direct/IpLayer.ts"
import type { TcpOptions } from "./TcpLayer.ts"
import { makeTcp } from "./TcpLayer.ts"

/** `DirectTcp` over the `IpLayer`, with `options` (configuration, random source). */
export const layerTcp = (options: TcpOptions = {}): Layer.Layer<DirectTcp, never, IpLayer> =>
  Layer.effect(DirectTcp, Effect.gen(function* () {
    const tcp = yield* makeTcp(yield* IpLayer, options)
    return DirectTcp.of({ listen: tcp.listen, connect: tcp.connect })
  }))
