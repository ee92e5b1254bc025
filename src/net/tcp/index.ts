/**
 * The TCP of the direct stack (issue #5): a synchronous engine (`TcpEngine`,
 * a `TransportProtocol` for IPv4 protocol 6) and its Effect shell (`makeTcp`,
 * giving `Stack.tcp` over an `IpAccess`). Flows become Sinks and Node
 * Duplex streams through src/net/FlowSink.ts and src/net/FlowDuplex.ts.
 */
export { defaultConfig, defaultKeepalive, makeConfig, type KeepaliveConfig, type TcpConfig } from "./config.ts"
export type { CloseReason, Connection, TcpState } from "./connection.ts"
export { type ConnectFailure, type EngineOptions, type EngineStats, type ListenFailure, TcpEngine } from "./engine.ts"
export type { Listener } from "./listener.ts"
export { makeTcp, type IpAccess, type Tcp, type TcpOptions } from "./TcpLayer.ts"
export { layerTcp } from "./layer.ts"
