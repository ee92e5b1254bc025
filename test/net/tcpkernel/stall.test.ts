/**
 * Stalls of our whole process in the middle of a transfer to the kernel
 * (a long GC pause or a descheduled vCPU, played by a busy loop of 300 ms,
 * longer than the retransmission timeout). The kernel acknowledges
 * everything in flight meanwhile. When we resume, no retransmission timeout
 * may fire, though its deadline has passed: Node runs expired timers before
 * it reads the TAP, and the stalled timer is restarted rather than fired.
 * Without SACK, so that no loss probe stands in for the timeout. A probe
 * could also be caused by a descheduled vCPU, which this VM does on its own.
 * The probe's restart is tested in simulation (`lossProbe.test.ts`).
 * Skipped, with the reason printed, like the other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { connectionOf, directOnTap, KERNEL, peer, peerReport, stall, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the stall test: ${reason}`)

const PORT = 7310
const CHUNK = 64 * 1024
const SIZE = 16 * 1024 * 1024

describe.skipIf(reason !== undefined)("stalls of our process during a transfer (root, network namespace)", () => {
  it.live("leave no needless retransmission timeout behind", () =>
    Effect.gen(function* () {
      // Frame for frame, with lwIP's buffers: many segments are in flight at any moment.
      const config = { sendBuffer: 65535, receiveBuffer: 65535, sack: false }
      const { ns, stack, engine } = yield* directOnTap({ config }, false)
      const sink = yield* peer(ns, "sink-listen", KERNEL, PORT)
      yield* sink.printed("ready")
      const flow = yield* stack.tcp.connect({ address: KERNEL, port: PORT })
      const c = connectionOf(engine, flow)
      const data = new Uint8Array(CHUNK).fill(0x5a)
      const writer = yield* Effect.forkChild(Effect.gen(function* () {
        for (let sent = 0; sent < SIZE; sent += CHUNK) yield* flow.write(data)
        yield* flow.shutdown
      }))
      let stalledInFlight = 0
      for (let i = 0; i < 5; i++) {
        yield* Effect.sleep("30 millis")
        // From a scheduler round (Node's check phase), not from the timer that woke us: the
        // loop then meets the expired timers of the stack before it reads the TAP again.
        yield* Effect.yieldNow
        stalledInFlight += c.flight > 0 ? 1 : 0
        yield* stall(300)
      }
      yield* Fiber.join(writer)
      expect((yield* peerReport(sink)).bytes).toBe(SIZE)
      expect(stalledInFlight).toBeGreaterThan(0)
      expect(c.retransmissions).toBe(0)
      expect(c.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER) // never cut
    }).pipe(Effect.scoped), 60_000)
})
