/**
 * The direct stack against the Linux kernel over a TAP, inside a network
 * namespace the test creates and removes: the kernel pings us (plain and
 * fragmented), we ping it, UDP datagrams go both ways with `nc -u`, a
 * TCP connect to us is refused at once (our reset), and a datagram whose
 * other fragments never come draws our ICMP time exceeded. Skipped, with the reason
 * printed, without root, /dev/net/tun, the addon, ping, python3 or nc.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import type { Ipv4Config } from "../../../src/net/direct/Config.ts"
import { layerDirect } from "../../../src/net/direct/DirectStack.ts"
import { Ping } from "../../../src/net/direct/Ping.ts"
import { layerTap } from "../../../src/net/NetifTap.ts"
import { Stack } from "../../../src/net/Stack.ts"
import { kernelSkipReason, moveIntoNamespace, scratchNamespace, toolSkipReason } from "../netif/netns.ts"
import { bytes, text } from "./stacks.ts"

const run = promisify(execFile)
const reason = kernelSkipReason() ?? toolSkipReason("nc", "netcat-openbsd", ["-h"])
if (reason !== undefined) console.log(`skipping direct stack kernel tests: ${reason}`)

const US = "10.77.2.2"
const KERNEL = "10.77.2.1"

/** Runs a command in `ns` and returns its stdout. */
const inNamespace = (ns: string, ...command: Array<string>) =>
  Effect.map(Effect.tryPromise(() => run("ip", ["netns", "exec", ns, ...command], { timeout: 15_000 })), (r) => r.stdout)

/** A direct stack (configured by `config`) on a TAP moved into a fresh namespace whose kernel side is `KERNEL`. */
const setupWith = (config: Omit<Ipv4Config, "cidr">) => Effect.gen(function* () {
  const { ns, ifname } = yield* scratchNamespace
  const context = yield* Layer.build(layerDirect({ cidr: `${US}/24`, ...config }).pipe(Layer.provide(layerTap({ name: ifname }))))
  yield* moveIntoNamespace(ns, ifname, `${KERNEL}/24`)
  return { ns, stack: Context.get(context, Stack), ping: Context.get(context, Ping) }
})
const setup = setupWith({})

/**
 * Sends `US` the first fragment of a UDP datagram (MF set, the rest never
 * follows) from a raw socket, then prints the type, code and quoted IPv4
 * identification of the first ICMP message from `US` within 3 s.
 */
const LONE_FRAGMENT = `
import socket, struct
ident = 0x5eed
udp = struct.pack("!HHHH", 40000, 7777, 8 + 64, 0) + b"f" * 16
header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0x2000, 64, 17, 0,
                     socket.inet_aton("${KERNEL}"), socket.inet_aton("${US}"))
send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
listen = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
listen.settimeout(3)
send.sendto(header + udp, ("${US}", 0))
while True:
    packet, (source, _) = listen.recvfrom(2048)
    if source != "${US}": continue
    icmp = packet[(packet[0] & 15) * 4:]
    print(icmp[0], icmp[1], hex(struct.unpack("!H", icmp[12:14])[0]))
    break
`

describe.skipIf(reason !== undefined)("direct stack against the kernel (root, network namespace)", () => {
  it.live("answers the kernel's ping, plain and fragmented, and pings it back", () =>
    Effect.gen(function* () {
      const { ns, ping } = yield* setup
      expect(yield* inNamespace(ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", US)).toContain("3 received")
      expect(yield* inNamespace(ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "4000", US)).toContain("2 received")
      const ours = yield* ping.ping(KERNEL, { count: 3, interval: "200 millis" })
      expect(ours.received).toBe(3)
      const big = yield* ping.ping(KERNEL, { count: 1, size: 4000 })
      expect(big.received).toBe(1)
    }).pipe(Effect.scoped))

  it.live("exchanges UDP datagrams with nc -u both ways; TCP to us is refused", () =>
    Effect.gen(function* () {
      const { ns, stack } = yield* setup
      const received: Array<string> = []
      yield* stack.udp.listen(7777, (d) => Effect.sync(() => received.push(`${d.source.address} ${text(d.payload)}`)))
      yield* inNamespace(ns, "sh", "-c", `printf 'to-us' | nc -u -w1 ${US} 7777`)
      expect(received).toEqual([`${KERNEL} to-us`])

      const listener = yield* Effect.acquireRelease(
        Effect.sync(() => spawn("ip", ["netns", "exec", ns, "nc", "-u", "-l", "-W", "1", KERNEL, "7778"])),
        (child) => Effect.sync(() => child.kill()),
      )
      let out = ""
      listener.stdout.on("data", (data) => (out += data))
      const exited = Effect.callback<void>((resume) => {
        if (listener.exitCode !== null) resume(Effect.void)
        else listener.once("exit", () => resume(Effect.void))
      })
      yield* Effect.sleep("300 millis") // nc binds
      yield* stack.udp.send({ address: KERNEL, port: 7778 }, bytes("from-us"))
      yield* exited.pipe(Effect.timeout("5 seconds"))
      expect(out).toBe("from-us")

      const connect = `import socket\ntry:\n  socket.create_connection(("${US}", 80), timeout=3)\nexcept ConnectionRefusedError:\n  print("refused")`
      expect(yield* inNamespace(ns, "python3", "-c", connect)).toBe("refused\n")
    }).pipe(Effect.scoped))

  it.live("answers a datagram whose other fragments never come with an ICMP time exceeded (code 1) at the reassembly timeout", () =>
    Effect.gen(function* () {
      const { ns } = yield* setupWith({ reassembly: { timeoutMs: 300 } })
      // Type 11 (time exceeded), code 1 (fragment reassembly), quoting the datagram's identification.
      expect(yield* inNamespace(ns, "python3", "-c", LONE_FRAGMENT)).toBe("11 1 0x5eed\n")
    }).pipe(Effect.scoped))
})
