/**
 * Our TCP as the direct stack's `DirectTcp`: `layerDirectWith(config,
 * layerTcp())` gives a direct stack whose `Stack.tcp` is this engine,
 * registered with the `IpLayer` as protocol 6.
 */
import { Effect, Layer } from "effect"
import { DirectTcp } from "../direct/DirectTcp.ts"
import { IpLayer } from "../direct/IpLayer.ts"
import type { Tcp, TcpOptions } from "./TcpLayer.ts"
import { makeTcp } from "./TcpLayer.ts"

/** The `DirectTcp` service of a TCP shell (its `listen` and `connect`). */
export const directTcp = (tcp: Tcp): DirectTcp["Service"] => DirectTcp.of({ listen: tcp.listen, connect: tcp.connect })

/** `DirectTcp` over the `IpLayer`, with `options` (configuration, random source). */
export const layerTcp = (options: TcpOptions = {}): Layer.Layer<DirectTcp, never, IpLayer> =>
  Layer.effect(DirectTcp, Effect.gen(function* () {
    return directTcp(yield* makeTcp(yield* IpLayer, options))
  }))
