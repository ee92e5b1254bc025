/**
 * Test helpers: direct stacks on ports of an in-memory switch, and the
 * services each one provides.
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { IpLayer } from "../../../src/net/direct/IpLayer.ts"
import type { Ipv4Config } from "../../../src/net/direct/Config.ts"
import { layerDirect } from "../../../src/net/direct/DirectStack.ts"
import { Ping } from "../../../src/net/direct/Ping.ts"
import { DirectUdp } from "../../../src/net/direct/Udp.ts"
import type { Switch, PortOptions } from "../../../src/net/NetifSwitch.ts"
import { Stack } from "../../../src/net/Stack.ts"
import type { StackInvalidArgument } from "../../../src/net/Stack.ts"

/** The services of one direct stack. */
export interface TestStack {
  readonly stack: Stack["Service"]
  readonly ping: Ping["Service"]
  readonly ip: IpLayer["Service"]
  readonly udp: DirectUdp["Service"]
}

/** A direct stack with `config` on a new port of `sw`, alive for the scope. */
export const stackOn = (
  sw: Switch,
  config: Ipv4Config,
  port: PortOptions = {},
): Effect.Effect<TestStack, StackInvalidArgument, Scope.Scope> =>
  Effect.map(Layer.build(layerDirect(config).pipe(Layer.provide(sw.layer(port)))), (context) => ({
    stack: Context.get(context, Stack),
    ping: Context.get(context, Ping),
    ip: Context.get(context, IpLayer),
    udp: Context.get(context, DirectUdp),
  }))

/** Text as bytes. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Bytes as text. */
export const text = (data: Uint8Array): string => new TextDecoder().decode(data)
