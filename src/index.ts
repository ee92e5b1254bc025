/**
 * effect-uk: the program side. Device services a unikernel requires, keys it
 * reads, and logging helpers.
 */
export { Console, ConsoleError } from "./core/Console.ts"
export * as Key from "./core/Key.ts"
export * as KeyType from "./core/KeyType.ts"
export * as Log from "./core/Log.ts"
export { MClock } from "./core/MClock.ts"
export { PClock } from "./core/PClock.ts"
export { Random } from "./core/Random.ts"
export { Time } from "./core/Time.ts"
export {
  Block,
  BlockDisconnected,
  BlockIoFailure,
  BlockOutOfRange,
  BlockReadOnly,
  BlockUnaligned,
  KvCorrupt,
  KvDictionaryExpected,
  KvInvalidKey,
  KvInvalidRange,
  KvNotFound,
  KvRo,
  KvValueExpected,
} from "./block/index.ts"
export type { BlockError, BlockInfo, KvRoError } from "./block/index.ts"
export { Stack, StackDeviceFailed, StackInvalidArgument, StackPortUnavailable, StackUnreachable, TcpClosed, TcpRefused, TcpReset, TcpTimeout } from "./net/Stack.ts"
export type { Datagram, Endpoint, Flow, Keepalive, StackError, TcpError, TcpFlowOptions } from "./net/Stack.ts"
