/**
 * The network device for `config.ts`: `genericStackv4()` (MirageOS
 * `generic_stackv4 default_network`), a `Stack` chosen by the `--net` key:
 * the host's sockets, or our direct stack over a TAP interface.
 */
import * as Device from "../core/Device.ts"
import { netKey } from "./keys.ts"
import type { Stack } from "./Stack.ts"

const net = { from: "effect-uk/net", as: "Net" } as const

/** The TCP/IPv4 stack, socket or direct as `--net` says (socket unless said). */
export const genericStackv4 = (): Device.Device<Stack> =>
  Device.make<Stack>({
    name: "stack",
    service: "Stack",
    keys: [netKey],
    implement: ({ target, keys }) => {
      const mode = keys.get(netKey.name) ?? netKey.default
      if (mode === "socket") {
        return { description: `the ${target} host's sockets`, imports: [net], layer: "Net.layerSocket()" }
      }
      return "the direct stack is not available yet: use --net socket"
    },
  })
