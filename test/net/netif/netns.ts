/**
 * Test helpers for tests against the real kernel: why they must be skipped
 * here, and throw-away network namespaces (removed on release, even on failure).
 */
import { Effect } from "effect"
import { execFile, execFileSync, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"

/** The package root. */
export const root = join(import.meta.dirname, "..", "..", "..")

const has = (command: string, ...args: Array<string>) => spawnSync(command, args, { stdio: "ignore" }).status === 0

/** Why kernel-backed tests cannot run here, or undefined when they can. */
export const kernelSkipReason = (): string | undefined => {
  if (process.platform !== "linux") return "not Linux"
  if (process.getuid?.() !== 0) return "not root (TAP devices and namespaces need CAP_NET_ADMIN)"
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun (modprobe tun)"
  if (!has("ip", "-V")) return "no `ip` (Debian: apt-get install -y iproute2)"
  if (!has("ping", "-V")) return "no `ping` (Debian: apt-get install -y iputils-ping)"
  if (!has("python3", "-c", "import socket; socket.AF_PACKET")) return "no python3 (Debian: apt-get install -y python3)"
  if (!existsSync(join(root, "build", "tap.node"))) return "addon not built (npm run build:addon)"
  return undefined
}

/** Why tests that run `command` cannot run here (it is not installed; Debian's `debianPackage` has it), or undefined; `probe` are harmless arguments. */
export const toolSkipReason = (command: string, debianPackage: string, probe: ReadonlyArray<string> = ["--version"]): string | undefined =>
  spawnSync(command, probe, { stdio: "ignore" }).error ? `no \`${command}\` (Debian: apt-get install -y ${debianPackage})` : undefined

/** Why tests that switch interface offloads with ethtool cannot run here, or undefined when they can. */
export const ethtoolSkipReason = (): string | undefined => toolSkipReason("ethtool", "ethtool")

/** Runs `ip` and returns its stdout; throws with stderr on failure. */
export const ip = (...args: Array<string>): string =>
  execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

/** Sets kernel parameters (`net.ipv4.ip_forward=1`…) in namespace `ns`; throws with stderr on failure. */
export const sysctl = (ns: string, ...settings: Array<string>): void => {
  ip("netns", "exec", ns, "sysctl", "-qw", ...settings)
}

/** A fresh namespace `euk-t-<id>` (deleted on release) and a free interface name `euk<id>`. */
export const scratchNamespace = Effect.gen(function* () {
  const id = randomBytes(4).toString("hex")
  const ns = `euk-t-${id}`
  yield* Effect.acquireRelease(
    Effect.sync(() => ip("netns", "add", ns)),
    () => Effect.sync(() => spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" })),
  )
  return { ns, ifname: `euk${id}` }
})

/** One end of a veth pair: its namespace, and the address (/24) the kernel gives it, if any. */
export interface VethEnd {
  readonly ns: string
  readonly address?: string
}

/**
 * A veth pair, end `names[0]` (`va`) in `a.ns` and `names[1]` (`vb`) in
 * `b.ns`, both up. An end with an address gets it; one without gets no IPv6
 * link-local address either, so the kernel sends nothing on it by itself (a
 * stack of ours owns that link).
 */
export const vethPair = (a: VethEnd, b: VethEnd, names: readonly [string, string] = ["va", "vb"]): void => {
  ip("-n", a.ns, "link", "add", names[0], "type", "veth", "peer", "name", names[1], "netns", b.ns)
  for (const [name, end] of [[names[0], a], [names[1], b]] as const) {
    if (end.address === undefined) ip("-n", end.ns, "link", "set", name, "addrgenmode", "none")
    else ip("-n", end.ns, "addr", "add", `${end.address}/24`, "dev", name)
    ip("-n", end.ns, "link", "set", name, "up")
  }
}

/** Moves our TAP into `ns`, gives the kernel side `address` (CIDR) and brings it up, without IPv6 chatter. */
export const moveIntoNamespace = (ns: string, tap: string, address: string) =>
  Effect.sync(() => {
    ip("link", "set", tap, "netns", ns)
    ip("-n", ns, "link", "set", tap, "addrgenmode", "none")
    ip("-n", ns, "addr", "add", address, "dev", tap)
    ip("-n", ns, "link", "set", tap, "up")
  })

/** Frames received by the kernel on `ifname` in `ns`. */
export const kernelRxPackets = (ns: string, ifname: string): number =>
  JSON.parse(ip("-n", ns, "-s", "-j", "link", "show", ifname))[0].stats64.rx.packets

/**
 * Python that sends `count` frames (EtherType 0x88b5, payload[0] = i) out
 * of `ifname`, `gap` seconds apart (argv[3], default 0), each of `size`
 * bytes (argv[4], default 64).
 */
const SENDER = `
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
gap = float(sys.argv[3]) if len(sys.argv) > 3 else 0
size = int(sys.argv[4]) if len(sys.argv) > 4 else 64
for i in range(int(sys.argv[2])):
    s.send(bytes.fromhex("ffffffffffff02000000cafe88b5") + bytes([i % 256]) + bytes(size - 15))
    time.sleep(gap)
`

/** The `ip` arguments running SENDER in `ns`. */
const senderArgs = (ns: string, ifname: string, count: number, gap = 0, size = 64) =>
  ["netns", "exec", ns, "python3", "-c", SENDER, ifname, String(count), String(gap), String(size)]

/** The kernel in `ns` sends `count` broadcast test frames of `size` bytes (default 64) out of `ifname`. */
export const kernelSends = (ns: string, ifname: string, count: number, size?: number) =>
  Effect.sync(() => execFileSync("ip", senderArgs(ns, ifname, count, 0, size)))

/** As `kernelSends`, `gap` seconds apart, while this process goes on (its event loop runs meanwhile). */
export const kernelSendsSpaced = (ns: string, ifname: string, count: number, gap: number) =>
  Effect.tryPromise(() => promisify(execFile)("ip", senderArgs(ns, ifname, count, gap)))

/** Whether this kernel lets us use io_uring (kernels before 6.6 have no switch and allow it). */
export const ioUringAllowed = !existsSync("/proc/sys/kernel/io_uring_disabled") ||
  readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim() === "0"

/** Whether this kernel has io_uring's multishot reads (Linux 6.7), with which the addon receives where it may. */
export const multishotReads = ((release) => release[0]! > 6 || (release[0] === 6 && release[1]! >= 7))(
  readFileSync("/proc/sys/kernel/osrelease", "utf8").split(".").map((part) => parseInt(part, 10)),
)

/** Polls `done` every 20 ms, for at most `ms`. */
export const waitUntil = (done: () => boolean, ms = 3000) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < ms && !done(); waited += 20) yield* Effect.sleep("20 millis")
  })
