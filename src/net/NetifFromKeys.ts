/**
 * The network interface a target gives the direct stack, configured by keys,
 * with every frame recorded to `--pcap=FILE` when given: on unix the TAP
 * device named by `--interface` (created if missing, reused if it exists), in
 * a VM the guest's NIC through AF_PACKET.
 */
import { Effect, Layer } from "effect"
import { interfaceKey, pcapKey } from "./keys.ts"
import type { Netif, NetifError } from "./Netif.ts"
import { layerPacket, layerTap } from "./NetifTap.ts"
import { withPcap } from "./Pcap.ts"

/** Wrap a Netif layer in the pcap tee when `--pcap` is given. */
const withPcapFromKey = <E>(netif: Layer.Layer<Netif, E>): Effect.Effect<Layer.Layer<Netif, E | NetifError>> =>
  Effect.map(pcapKey, (pcap) => (pcap === undefined ? netif : withPcap(pcap).pipe(Layer.provide(netif))))

/** A TAP device named by `--interface` (unix target). */
export const layerTapFromKeys: Layer.Layer<Netif, NetifError> = Layer.unwrap(
  Effect.flatMap(interfaceKey, (name) => withPcapFromKey(layerTap({ name }))),
)

/** The existing interface `name` through AF_PACKET, with its own MAC (a VM guest's NIC, `eth0`). */
export const layerPacketFromKeys = (name: string): Layer.Layer<Netif, NetifError> =>
  Layer.unwrap(withPcapFromKey(layerPacket({ name })))
