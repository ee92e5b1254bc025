/**
 * The network devices for `config.ts`: `genericStackv4()` (MirageOS
 * `generic_stackv4 default_network`), a `Stack` chosen by the `--net` key:
 * the host's sockets, or our direct stack over the network interface of
 * `defaultNetwork` (MirageOS `default_network`, a TAP on unix).
 */
import * as Device from "../core/Device.ts"
import { gatewayKey, interfaceKey, ipv4Key, netKey, pcapKey } from "./keys.ts"
import type { Netif } from "./Netif.ts"
import type { Stack } from "./Stack.ts"

const net = { from: "effect-uk/net", as: "Net" } as const

/** The target's network interface: a TAP named by `--interface` on unix, recorded to `--pcap`. */
export const defaultNetwork: Device.Device<Netif> = Device.make<Netif>({
  name: "net",
  service: "Netif",
  implement: ({ target }) =>
    target === "unix"
      ? {
        description: "TAP device --interface (created if missing), recorded to --pcap",
        imports: [net],
        layer: "Net.layerTapFromKeys",
        keys: [interfaceKey, pcapKey],
      }
      : `networking on ${target} is not available yet (the image has no network driver); use -t unix`,
})

/** The TCP/IPv4 stack, socket or direct as `--net` says (socket unless said). */
export const genericStackv4 = (network: Device.Device<Netif> = defaultNetwork): Device.Device<Stack> =>
  Device.make<Stack>({
    name: "stack",
    service: "Stack",
    keys: [netKey],
    implement: ({ target, keys }) =>
      target !== "unix"
        ? `networking on ${target} is not available yet (the image has no network driver); use -t unix`
        : (keys.get(netKey.name) ?? netKey.default) === "socket"
        ? { description: "the host's sockets", imports: [net], layer: "Net.layerSocket()" }
        : {
          description: "our direct stack over the network interface, configured by --ipv4 and --ipv4-gateway",
          imports: [net],
          layer: "Net.layerDirectFromKeys",
          dependsOn: [network],
          keys: [ipv4Key, gatewayKey],
        },
  })
