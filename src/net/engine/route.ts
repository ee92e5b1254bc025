/**
 * IPv4 routing of a host with one interface (RFC 1122 §3.3.1): a destination
 * in our subnet is on the link, anything else goes through the gateway;
 * broadcasts go to the Ethernet broadcast address. Pure functions.
 */
import type { Ipv4, Ipv4Cidr, Mac } from "../wire/addr.ts"
import {
  IPV4_BROADCAST,
  MAC_BROADCAST,
  formatIpv4,
  inSubnet,
  isLoopbackIpv4,
  isMulticastIpv4,
  isUnspecifiedIpv4,
} from "../wire/addr.ts"

/** Our interface's IPv4 configuration. */
export interface Interface {
  readonly cidr: Ipv4Cidr
  readonly gateway: Ipv4 | undefined
}

/** Where a packet for some destination goes. */
export type Route =
  /** To a fixed link-layer address (broadcast). */
  | { readonly _tag: "Link"; readonly mac: Mac }
  /** To the MAC that ARP gives for `nextHop` (the destination or the gateway). */
  | { readonly _tag: "Resolve"; readonly nextHop: Ipv4 }
  /** Nowhere, for `reason`. */
  | { readonly _tag: "NoRoute"; readonly reason: string }

/** Whether the subnet has a directed broadcast address (not /31 or /32, RFC 3021). */
const hasBroadcast = (cidr: Ipv4Cidr): boolean => cidr.prefixLength < 31

/** Whether `address` is a broadcast address on our link (limited or directed). */
export const isLinkBroadcast = (iface: Interface, address: Ipv4): boolean =>
  address === IPV4_BROADCAST || (hasBroadcast(iface.cidr) && address === iface.cidr.broadcast)

/** Whether a packet to `destination` is for us: our address or a broadcast of our link. */
export const accepts = (iface: Interface, destination: Ipv4): boolean =>
  destination === iface.cidr.address || isLinkBroadcast(iface, destination)

/** Whether `source` may be the source of a packet we accept (RFC 1122 §3.2.1.3: not a broadcast or multicast). */
export const validSource = (iface: Interface, source: Ipv4): boolean =>
  !isLinkBroadcast(iface, source) && !isMulticastIpv4(source)

const BROADCAST_ROUTE: Route = { _tag: "Link", mac: MAC_BROADCAST }

/** The route of a packet to `destination`. */
export const route = (iface: Interface, destination: Ipv4): Route => {
  if (isLinkBroadcast(iface, destination)) return BROADCAST_ROUTE
  if (isUnspecifiedIpv4(destination) || isLoopbackIpv4(destination) || destination === iface.cidr.address) {
    return { _tag: "NoRoute", reason: `${formatIpv4(destination)} is not a destination on the network` }
  }
  if (isMulticastIpv4(destination)) {
    return { _tag: "NoRoute", reason: `multicast (${formatIpv4(destination)}) is not supported` }
  }
  if (inSubnet(iface.cidr, destination)) return { _tag: "Resolve", nextHop: destination }
  if (iface.gateway !== undefined) return { _tag: "Resolve", nextHop: iface.gateway }
  return { _tag: "NoRoute", reason: `it is outside ${formatIpv4(iface.cidr.network)}/${iface.cidr.prefixLength} and there is no gateway` }
}
