/** Test helper: one IPv4 engine on its own, with a neighbour it can send to at once. */
import { Ipv4Engine } from "../../../src/net/engine/ipv4.ts"
import type { Ipv4EngineOptions } from "../../../src/net/engine/ipv4.ts"
import type { Ipv4, Ipv4Cidr } from "../../../src/net/wire/addr.ts"
import { parseCidr } from "../../../src/net/wire/addr.ts"

/** The engine's MAC, and its neighbour's. */
export const ENGINE_MAC = 0x02000000000a
export const NEIGHBOUR_MAC = 0x02000000000b

/**
 * An engine at 10.0.0.2/24 (MAC `ENGINE_MAC`, MTU 1500, its clock at 0)
 * with a static ARP entry for `neighbour` (`NEIGHBOUR_MAC`), so what it
 * sends there leaves at once; `options` override the rest.
 */
export const engineBeside = (neighbour: Ipv4, options: Partial<Ipv4EngineOptions> = {}): Ipv4Engine =>
  new Ipv4Engine({
    mac: ENGINE_MAC,
    mtu: 1500,
    cidr: parseCidr("10.0.0.2/24") as Ipv4Cidr,
    staticArp: new Map([[neighbour, NEIGHBOUR_MAC]]),
    now: () => 0,
    ...options,
  })
