/**
 * The `tcp` half of the direct stack's `Stack`, as its own service so that
 * the TCP engine (src/net/tcp) provides it over the `IpLayer` without the
 * stack depending on the engine's internals.
 */
import { Context } from "effect"
import type { Stack } from "../Stack.ts"

/** `Stack.tcp` of the direct stack, provided by `layerTcp` (src/net/tcp/layer.ts). */
export class DirectTcp extends Context.Service<DirectTcp, Stack["Service"]["tcp"]>()("effect-uk/DirectTcp") {}
