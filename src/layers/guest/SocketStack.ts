/**
 * The socket stack inside a VM guest (`--net socket` on hvt and xen): the
 * guest kernel's own TCP/IP on its NIC, which the init has brought up. The
 * address comes from `--ipv4` and the default route from `--ipv4-gateway`,
 * set with busybox `ip` before the stack opens.
 */
import { Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import { gatewayKey, ipv4Key } from "../../net/keys.ts"
import { layerSocket } from "../../net/socket/SocketStack.ts"
import { type Stack, StackDeviceFailed } from "../../net/Stack.ts"
import { guestBusybox, nicName } from "./NicSpec.ts"

/** Run `busybox ip args` in the guest. */
const ip = (args: ReadonlyArray<string>): Effect.Effect<void, StackDeviceFailed> =>
  Effect.try({
    try: () => {
      const result = spawnSync(guestBusybox, ["ip", ...args], { encoding: "utf8" })
      if (result.error) throw result.error
      if (result.status !== 0) throw new Error(result.stderr.trim() || `exit status ${result.status}`)
    },
    catch: (cause) =>
      new StackDeviceFailed({
        reason: `ip ${args.join(" ")} failed in the guest (${(cause as Error).message}): ` +
          "check --ipv4 and --ipv4-gateway (the gateway must be inside the --ipv4 subnet)",
        cause,
      }),
  })

/** The guest kernel's sockets on its first NIC, addressed from `--ipv4` and routed through `--ipv4-gateway`. */
export const guestSocketStack: Layer.Layer<Stack, StackDeviceFailed> = Layer.unwrap(Effect.gen(function* () {
  const cidr = yield* ipv4Key
  const gateway = yield* gatewayKey
  yield* ip(["addr", "add", cidr, "dev", nicName(0)])
  if (gateway !== undefined) yield* ip(["route", "add", "default", "via", gateway])
  return layerSocket({ address: cidr.slice(0, cidr.indexOf("/")) })
}))
