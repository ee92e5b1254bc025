/**
 * Many connections at once from the kernel to our listener over a TAP, in a
 * namespace the test creates: a Python client opens 64 connections before
 * reading any, each sends a distinct payload and must get exactly it back
 * from our echo handler. Skipped, with the reason printed, without root,
 * /dev/net/tun, the addon, python3, nc or sha256sum.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { directOnTap, echo, peer, peerReport, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping concurrent TCP tests against the kernel: ${reason}`)

const CONNECTIONS = 64

describe.skipIf(reason !== undefined)("concurrent TCP connections from the kernel (root, network namespace)", () => {
  it.live(`${CONNECTIONS} connections each get their own payload echoed`, () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap()
      let accepted = 0
      yield* stack.tcp.listen(5020, (flow) => Effect.andThen(Effect.sync(() => accepted++), echo(flow)))
      const client = yield* peer(ns, "echo-connect", US, 5020, CONNECTIONS)
      const report = yield* peerReport(client).pipe(Effect.timeout("40 seconds"))
      expect(report.bytes).toBe(CONNECTIONS) // connections whose echo matched their payload
      expect(accepted).toBe(CONNECTIONS)
    }).pipe(Effect.scoped))
})
