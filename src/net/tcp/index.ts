/**
 * The TCP of the direct stack (issue #5): a synchronous engine (`TcpEngine`,
 * a `TransportProtocol` for IPv4 protocol 6) and its Effect shell (`makeTcp`,
 * giving `Stack.tcp` over an `IpAccess`), with flows as Effect `Sink`s and
 * Node `Duplex` streams.
 */
export { defaultConfig, defaultKeepalive, makeConfig, type KeepaliveConfig, type TcpConfig } from "./config.ts"
export type { CloseReason, Connection, TcpState } from "./connection.ts"
export { type ConnectFailure, type EngineOptions, type EngineStats, type ListenFailure, TcpEngine } from "./engine.ts"
export type { Listener } from "./listener.ts"
export { makeTcp, type IpAccess, type Tcp, type TcpOptions } from "./TcpLayer.ts"
export { toDuplex } from "./duplex.ts"
export { toSink } from "./sink.ts"
export { layerTcp } from "./layer.ts"
