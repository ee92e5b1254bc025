/**
 * D-SACK (RFC 2883) against the Linux kernel: the kernel sends us data while
 * our event loop is blocked (a stalled receiver), so its retransmission
 * timer fires and we get the same data two or three times. Our ACKs report
 * the copies as D-SACK blocks, and the kernel counts them
 * (`TcpExtTCPDSACKRecv`; without D-SACK it stays 0): a sender learns from
 * them that a retransmission was not needed (RFC 3708; Linux also widens
 * its RACK reordering window on them). Skipped, with the reason printed,
 * like the other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { directOnTap, drain, kernelCounter, spawnIn, stall, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the D-SACK test: ${reason}`)

const PORT = 7300
const BYTES = 1000
/** Connects to us, waits, sends BYTES, and keeps the connection open while its retransmissions go unanswered. */
const SENDER = `
import socket, sys, time
s = socket.create_connection(("${US}", ${PORT}))
time.sleep(0.5)
s.sendall(b"d" * ${BYTES})
time.sleep(2.5)
s.close()
`

describe.skipIf(reason !== undefined)("D-SACK against the kernel (root, network namespace)", () => {
  it.live("reports the kernel's needless retransmissions, and the kernel counts the D-SACKs", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap({}, true)
      const accepted = yield* Deferred.make<void>()
      const received = yield* Deferred.make<number>()
      yield* stack.tcp.listen(PORT, (flow) =>
        Effect.gen(function* () {
          yield* Deferred.succeed(accepted, undefined)
          yield* Deferred.succeed(received, yield* drain(flow))
        }).pipe(Effect.orDie))
      const before = kernelCounter(ns, "TcpExtTCPDSACKRecv")
      const sender = yield* spawnIn(ns, "python3", ["-c", SENDER])
      yield* Deferred.await(accepted)
      // The data comes 0.5 s after the connect; we answer nothing from 0.2 s to 1.9 s.
      yield* Effect.sleep("200 millis")
      yield* stall(1700)
      yield* sender.exited
      expect(yield* Deferred.await(received)).toBe(BYTES)
      expect(kernelCounter(ns, "TcpExtTCPDSACKRecv") - before).toBeGreaterThan(0)
    }).pipe(Effect.scoped), 30_000)
})
