/**
 * The network devices for `config.ts`: `genericStackv4()` (MirageOS
 * `generic_stackv4 default_network`), a `Stack` chosen by the `--net` key:
 * sockets (the host's on unix, the guest kernel's in a VM), or our direct
 * stack over the network interface of `defaultNetwork` (MirageOS
 * `default_network`: a TAP on unix, the guest's NIC through AF_PACKET in a VM).
 */
import * as Device from "../core/Device.ts"
import { targetModule } from "../core/Target.ts"
import { nicName } from "../layers/guest/NicSpec.ts"
import { gatewayKey, interfaceKey, ipv4Key, netKey, pcapKey } from "./keys.ts"
import type { Netif } from "./Netif.ts"
import type { Stack } from "./Stack.ts"

const net = { from: "effect-uk/net", as: "Net" } as const

/** The target's network interface: a TAP named by `--interface` on unix, the guest's NIC in a VM; recorded to `--pcap`. */
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
      : {
        description: `the guest's NIC ${nicName(0)} through AF_PACKET (the launcher's --net=TAP), recorded to --pcap`,
        imports: [net],
        layer: `Net.layerPacketFromKeys(${JSON.stringify(nicName(0))})`,
        keys: [pcapKey],
        nic: "packet",
      },
})

/** The TCP/IPv4 stack, socket or direct as `--net` says (socket unless said). */
export const genericStackv4 = (network: Device.Device<Netif> = defaultNetwork): Device.Device<Stack> =>
  Device.make<Stack>({
    name: "stack",
    service: "Stack",
    keys: [netKey],
    implement: ({ target, keys }) =>
      (keys.get(netKey.name) ?? netKey.default) === "direct"
        ? {
          description: "our direct stack over the network interface, configured by --ipv4 and --ipv4-gateway",
          imports: [net],
          layer: "Net.layerDirectFromKeys",
          dependsOn: [network],
          keys: [ipv4Key, gatewayKey],
        }
        : target === "unix"
        ? { description: "the host's sockets", imports: [net], layer: "Net.layerSocket()" }
        : {
          description: `the guest kernel's sockets on its NIC ${nicName(0)} (the launcher's --net=TAP), configured by --ipv4 and --ipv4-gateway`,
          imports: [{ from: targetModule(target), as: "Target" }],
          layer: "Target.socketStack",
          keys: [ipv4Key, gatewayKey],
          nic: "kernel",
        },
  })
