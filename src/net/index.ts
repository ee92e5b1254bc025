/**
 * Networking for programs and generated entry points: the `Stack` device,
 * its errors, and its layers.
 */
export * from "./Stack.ts"
export { layerSocket } from "./socket/SocketStack.ts"
export type { SocketStackOptions } from "./socket/SocketStack.ts"
export { gatewayKey, interfaceKey, ipv4Key, netKey, pcapKey } from "./keys.ts"
export { configFromKeys, layerDirect, layerDirectFromKeys, layerDirectWith } from "./direct/DirectStack.ts"
export type { Ipv4Config } from "./direct/Config.ts"
export { Ping } from "./direct/Ping.ts"
export type { PingOptions, PingResult } from "./direct/Ping.ts"
export { Netif } from "./Netif.ts"
export type { NetifError, NetifStats } from "./Netif.ts"
export { layerPacketFromKeys, layerTapFromKeys } from "./NetifFromKeys.ts"
export { toDuplex } from "./FlowDuplex.ts"
export { toSink } from "./FlowSink.ts"
export { makeFlow, streamOfReads } from "./FlowStream.ts"
export type { FlowParts } from "./FlowStream.ts"
