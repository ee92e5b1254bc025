/**
 * What bench/lwip/transfer.c reports, for bench/tcp.ts and the direct stack
 * it runs in a process of its own (bench/tcpDirect.ts).
 */
import { Effect } from "effect"
import type { Process } from "../test/net/tcpkernel/kernel.ts"

/** One run's report: bytes moved, seconds between first and last byte, the process's CPU seconds, request/response latency. */
export interface TransferReport {
  readonly bytes: number
  readonly seconds: number
  readonly cpu: number
  readonly p50?: number
  readonly p99?: number
}

/** The report `p` (a transfer.c run) prints as its last line, once it exits. */
export const transferReport = (p: Process): Effect.Effect<TransferReport, Error> =>
  Effect.map(p.exited, (out) => JSON.parse(out.trim().split("\n").at(-1)!) as TransferReport)
