/**
 * The direct stack (`--net direct`): our own TCP/IP over a `Netif`, as
 * MirageOS's `tcpip.stack-direct`. It is layers on layers:
 *
 * ```
 *   Stack, Ping            layerDirectWith(config, tcp)
 *     ├─ DirectUdp         layerUdp   (UDP engine registered as protocol 17)
 *     ├─ DirectTcp         tcp        (any Layer<DirectTcp, E, IpLayer>)
 *     ├─ Ping              layerPing  (ICMP echo through observeIcmp)
 *     └─ IpLayer           layerIp(config)  (ARP, IPv4, ICMP echo replies)
 *          └─ Netif
 * ```
 *
 * TCP plugs in as a layer providing `DirectTcp` (the `tcp` half of `Stack`)
 * from `IpLayer`: it calls `ip.register({ protocol: 6, input })` and sends
 * with `ip.sender`. `layerDirect` uses our engine (`layerTcp`, src/net/tcp);
 * `layerDirectWith(config, tcp)` takes any other.
 */
import { Effect, Layer } from "effect"
import type { Netif } from "../Netif.ts"
import { Stack, StackInvalidArgument } from "../Stack.ts"
import { formatIpv4 } from "../wire/addr.ts"
import type { Ipv4Config } from "./Config.ts"
import { defaultIpv4Config } from "./Config.ts"
import { layerTcp } from "../tcp/layer.ts"
import type { TcpOptions } from "../tcp/TcpLayer.ts"
import { DirectTcp } from "./DirectTcp.ts"
import { IpLayer, layerIp } from "./IpLayer.ts"
import { gatewayKey, ipv4Key } from "../keys.ts"
import type { Ping } from "./Ping.ts"
import { layerPing } from "./Ping.ts"
import { DirectUdp, layerUdp } from "./Udp.ts"

/** `Stack` from the direct stack's parts. */
const layerStack: Layer.Layer<Stack, never, IpLayer | DirectUdp | DirectTcp> = Layer.effect(Stack, Effect.gen(function* () {
  const ip = yield* IpLayer
  return Stack.of({ addresses: [formatIpv4(ip.cidr.address)], udp: yield* DirectUdp, tcp: yield* DirectTcp })
}))

/** What the direct stack provides: `Stack`, `Ping`, and its parts `IpLayer` and `DirectUdp` (counters, further protocols). */
export type DirectServices = Stack | Ping | IpLayer | DirectUdp

/**
 * The direct stack with the TCP of `tcp` (a layer that may require
 * `IpLayer`). A bad `config` fails the layer.
 */
export const layerDirectWith = <E, R>(
  config: Ipv4Config,
  tcp: Layer.Layer<DirectTcp, E, R>,
): Layer.Layer<DirectServices, StackInvalidArgument | E, Netif | Exclude<R, IpLayer>> => {
  const transports = Layer.mergeAll(layerUdp, tcp).pipe(Layer.provideMerge(layerIp(config)))
  return Layer.mergeAll(layerStack, layerPing).pipe(Layer.provideMerge(transports))
}

/** The direct stack configured by `config` (default `10.0.0.2/24`), with our TCP configured by `tcp`. */
export const layerDirect = (
  config: Ipv4Config = defaultIpv4Config,
  tcp: TcpOptions = {},
): Layer.Layer<DirectServices, StackInvalidArgument, Netif> => layerDirectWith(config, layerTcp(tcp))

/** The configuration the `--ipv4` and `--ipv4-gateway` keys give. */
export const configFromKeys: Effect.Effect<Ipv4Config> = Effect.gen(function* () {
  const gateway = yield* gatewayKey
  return { cidr: yield* ipv4Key, ...(gateway === undefined ? {} : { gateway }) }
})

/** The direct stack configured by the `--ipv4` and `--ipv4-gateway` keys, with the TCP of `tcp`. */
export const layerDirectFromKeysWith = <E, R>(tcp: Layer.Layer<DirectTcp, E, R>) =>
  Layer.unwrap(Effect.map(configFromKeys, (config) => layerDirectWith(config, tcp)))

/** The direct stack configured by the `--ipv4` and `--ipv4-gateway` keys, with our TCP. */
export const layerDirectFromKeys: Layer.Layer<DirectServices, StackInvalidArgument, Netif> =
  layerDirectFromKeysWith(layerTcp())
