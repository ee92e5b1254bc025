/**
 * Our TCP's connect against ICMP destination unreachable from a real
 * router: the kernel's namespace forwards for our stack (its gateway), and
 * routes of type `unreachable` and `prohibit` make it answer our SYNs with
 * ICMP host unreachable and administratively prohibited. The connect fails
 * at once with `StackUnreachable` saying so, not after a minute of SYN
 * retries. Skipped, with the reason printed, like the other kernel tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ip, sysctl } from "../netif/netns.ts"
import { directOnTap, KERNEL, tcpKernelSkipReason } from "./kernel.ts"

const reason = tcpKernelSkipReason()
if (reason !== undefined) console.log(`skipping the ICMP unreachable test: ${reason}`)

describe.skipIf(reason !== undefined)("TCP connect against ICMP unreachable from the kernel (root, network namespace)", () => {
  it.live("fails at once with StackUnreachable, naming what the router said", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* directOnTap({}, true, { gateway: KERNEL })
      sysctl(ns, "net.ipv4.ip_forward=1")
      ip("-n", ns, "route", "add", "unreachable", "10.77.9.0/24")
      ip("-n", ns, "route", "add", "prohibit", "10.77.10.0/24")
      for (const [address, said] of [["10.77.9.9", "host unreachable"], ["10.77.10.10", "administratively prohibited"]] as const) {
        const started = Date.now()
        const error = yield* Effect.flip(Effect.scoped(stack.tcp.connect({ address, port: 80 })))
        expect(error._tag).toBe("StackUnreachable")
        expect(error.message).toContain(`${said} (ICMP from ${KERNEL})`)
        expect(Date.now() - started).toBeLessThan(5000)
      }
    }).pipe(Effect.scoped), 30_000)
})
