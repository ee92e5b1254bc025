/**
 * A flow's sending side as an Effect `Sink`: every chunk is written with
 * backpressure; the sink does not shut the flow down (use `flow.shutdown`).
 */
import { Sink } from "effect"
import type { Flow, TcpError } from "./Stack.ts"

/** A sink writing each chunk to `flow`. */
export const toSink = (flow: Flow): Sink.Sink<void, Uint8Array, never, TcpError> =>
  Sink.forEachArray((chunks: ReadonlyArray<Uint8Array>) => flow.writev(chunks))
