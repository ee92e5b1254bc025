/**
 * Networking for programs and generated entry points: the `Stack` device,
 * its errors, and its layers.
 */
export * from "./Stack.ts"
export { layerSocket } from "./socket/SocketStack.ts"
export type { SocketStackOptions } from "./socket/SocketStack.ts"
export { gatewayKey, interfaceKey, ipv4Key, netKey, pcapKey } from "./keys.ts"
