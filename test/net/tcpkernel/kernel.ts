/**
 * Helpers for TCP against the Linux kernel: our direct stack on a TAP whose
 * other end sits in a throw-away network namespace (removed on release, even
 * on failure), processes run in that namespace (killed on release), and a
 * Python peer for bulk transfers that hashes what it sends or receives.
 * Shared by test/net/tcpkernel/*.test.ts and bench/tcp.ts.
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import type { Ipv4Config } from "../../../src/net/direct/Config.ts"
import { layerDirectWith } from "../../../src/net/direct/DirectStack.ts"
import { DirectTcp } from "../../../src/net/direct/DirectTcp.ts"
import { IpLayer } from "../../../src/net/direct/IpLayer.ts"
import { Netif } from "../../../src/net/Netif.ts"
import { layerTap } from "../../../src/net/NetifTap.ts"
import type { NetifTapOptions, TapOffload } from "../../../src/net/NetifTap.ts"
import { Stack } from "../../../src/net/Stack.ts"
import type { Flow, TcpError } from "../../../src/net/Stack.ts"
import type { Connection } from "../../../src/net/tcp/connection.ts"
import type { TcpEngine } from "../../../src/net/tcp/engine.ts"
import { parseIpv4 } from "../../../src/net/wire/addr.ts"
import { directTcp } from "../../../src/net/tcp/layer.ts"
import { makeTcp } from "../../../src/net/tcp/TcpLayer.ts"
import type { TcpOptions } from "../../../src/net/tcp/TcpLayer.ts"
import { kernelSkipReason, moveIntoNamespace, scratchNamespace, toolSkipReason } from "../netif/netns.ts"

/** Our address on the TAP, and the kernel's. */
export const US = "10.77.5.2"
export const KERNEL = "10.77.5.1"

/** Why TCP-against-the-kernel tests cannot run here, or undefined when they can. */
export const tcpKernelSkipReason = (): string | undefined =>
  kernelSkipReason() ??
    toolSkipReason("nc", "netcat-openbsd", ["-h"]) ??
    toolSkipReason("sha256sum", "coreutils")

/**
 * A direct stack (TCP configured by `tcp`) on a TAP moved into a fresh
 * namespace whose kernel side is `KERNEL`; `offload` is the TAP's (its
 * default, true: the kernel's TCP segmentation and checksum offload); `ipv4` adds to
 * the IPv4 configuration (e.g. `gateway: KERNEL` routes beyond the TAP's
 * subnet); `wrap` may stand between the stack and the TAP (to drop, hold or
 * reorder frames as a network path would); `tap` adds to the TAP's options
 * (e.g. `threadedNapi: false`). With the stack come its IP layer and TCP
 * engine, for their counters.
 */
export const directOnTap = (
  tcp: TcpOptions = {},
  offload: TapOffload = true,
  ipv4: Omit<Ipv4Config, "cidr"> = {},
  wrap: (tap: Netif["Service"]) => Netif["Service"] = (tap) => tap,
  tap: Omit<NetifTapOptions, "name" | "offload"> = {},
) =>
  Effect.gen(function* () {
    const { ns, ifname } = yield* scratchNamespace
    const device = Context.get(yield* Layer.build(layerTap({ ...tap, name: ifname, offload })), Netif)
    // Up on the kernel side before the stack starts: its gratuitous ARP then goes out.
    yield* moveIntoNamespace(ns, ifname, `${KERNEL}/24`)
    let engine: TcpEngine | undefined
    let ip: IpLayer["Service"] | undefined
    const tcpLayer = Layer.effect(DirectTcp, Effect.gen(function* () {
      ip = yield* IpLayer
      const made = yield* makeTcp(ip, tcp)
      engine = made.engine
      return directTcp(made)
    }))
    const context = yield* Layer.build(layerDirectWith({ cidr: `${US}/24`, ...ipv4 }, tcpLayer).pipe(Layer.provide(Layer.succeed(Netif, wrap(device)))))
    return { ns, ifname, stack: Context.get(context, Stack), ip: ip!, engine: engine! }
  })

/** A child process: its output so far, and its exit. */
export interface Process {
  readonly child: ChildProcess
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  /** Waits until stdout contains `text` (for "ready" lines). */
  readonly printed: (text: string) => Effect.Effect<void>
  /** Waits for the exit; fails with stderr when the exit code is not 0. */
  readonly exited: Effect.Effect<string, Error>
}

/** Runs `command` (stdin closed, or a pipe with `stdin: "pipe"`), killed when the scope closes if still running. */
export const spawnScoped = (
  command: string,
  args: ReadonlyArray<string>,
  stdin: "ignore" | "pipe" = "ignore",
): Effect.Effect<Process, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => spawn(command, args, { stdio: [stdin, "pipe", "pipe"] })),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")),
    ),
    (child) => {
      let out = ""
      let err = ""
      const listeners = new Set<() => void>()
      child.stdout!.on("data", (data) => {
        out += data
        for (const listener of listeners) listener()
      })
      child.stderr!.on("data", (data) => (err += data))
      const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
      return {
        child,
        stdout: () => out,
        printed: (text) =>
          Effect.callback<void>((resume) => {
            const check = () => {
              if (!out.includes(text)) return
              listeners.delete(check)
              resume(Effect.void)
            }
            listeners.add(check)
            check()
            return Effect.sync(() => listeners.delete(check))
          }),
        exited: Effect.flatMap(Effect.promise(() => exit), (code) =>
          code === 0 ? Effect.succeed(out) : Effect.fail(new Error(`${command} ${args.join(" ").slice(0, 80)} exited ${code}: ${err.trim()}`))),
      }
    },
  )

/** Runs `command` in `ns` (stdin closed), killed when the scope closes if still running. */
export const spawnIn = (ns: string, command: string, args: ReadonlyArray<string>): Effect.Effect<Process, never, Scope.Scope> =>
  spawnScoped("ip", ["netns", "exec", ns, command, ...args])

/**
 * The kernel-side peer of the tests, `python3 -c PEER mode host port [n]`:
 * `sink-listen` reads one connection until its end; `source-connect` sends
 * `n` random bytes, shuts down its side and waits for the end; `echo-connect`
 * opens `n` connections at once, each sending a distinct payload, and counts
 * those that got exactly it back. A listening peer prints `ready` first. Each
 * prints one JSON line: bytes (sent, received, or matching echoes) and the
 * SHA-256 of the bytes sent or received.
 */
export const PEER = `
import hashlib, json, os, socket, sys, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def connected():
    if mode.endswith("-connect"):
        return socket.create_connection((host, port), timeout=60)
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port))
    l.listen(1)
    print("ready", flush=True)
    l.settimeout(60)
    c, _ = l.accept()
    c.settimeout(60)
    return c
h, count = hashlib.sha256(), 0
if mode.startswith("sink"):
    c = connected()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    while True:
        n = c.recv_into(buf)
        if n == 0:
            break
        h.update(view[:n])
        count += n
elif mode.startswith("source"):
    data = os.urandom(size)
    h.update(data)
    c = connected()
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    count = size
else:
    import selectors
    sel = selectors.DefaultSelector()
    want = {}
    for i in range(size):
        s = socket.create_connection((host, port), timeout=10)
        payload = ("connection %d " % i).encode() * (1 + i % 7)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        s.setblocking(False)
        want[s] = [payload, b""]
        sel.register(s, selectors.EVENT_READ)
    deadline = time.time() + 30
    while want and time.time() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            chunk = s.recv(65536)
            if chunk:
                want[s][1] += chunk
                continue
            payload, got = want.pop(s)
            sel.unregister(s)
            s.close()
            count += got == payload
print(json.dumps({"bytes": count, "sha256": h.hexdigest()}), flush=True)
`

/** Waits (up to 10 s) until a socket in `ns` listens on TCP `port`. */
export const listening = (ns: string, port: number): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    for (let i = 0; i < 200; i++) {
      const ss = spawnSync("ip", ["netns", "exec", ns, "ss", "-Hltn", `sport = :${port}`], { encoding: "utf8" })
      if (ss.stdout.trim() !== "") return
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.fail(new Error(`nothing listens on port ${port} in ${ns}`))
  })

/** The JSON line a `PEER` prints at the end. */
export interface PeerReport {
  readonly bytes: number
  readonly sha256: string
}

/** Starts `PEER` in `ns` in `mode` toward or on `host:port`. */
export const peer = (ns: string, mode: string, host: string, port: number, size = 0) =>
  spawnIn(ns, "python3", ["-c", PEER, mode, host, String(port), String(size)])

/** The report of a finished `PEER`. */
export const peerReport = (p: Process): Effect.Effect<PeerReport, Error> =>
  Effect.map(p.exited, (out) => JSON.parse(out.trim().split("\n").at(-1)!) as PeerReport)

/**
 * Reads `flow` to its end into one reused buffer of `DRAIN_BUFFER` bytes (as
 * a C program `recv`s into one array), giving each filled part to `onChunk`,
 * a view valid only during the call; the number of bytes read.
 */
export const drain = (flow: Flow, onChunk: (chunk: Uint8Array) => void = () => {}): Effect.Effect<number, TcpError> =>
  Effect.gen(function* () {
    const buffer = new Uint8Array(DRAIN_BUFFER)
    let total = 0
    for (let n = yield* flow.readInto(buffer); n !== undefined; n = yield* flow.readInto(buffer)) {
      total += n
      onChunk(buffer.subarray(0, n))
    }
    return total
  })

/** The buffer `drain` reads into: the size bench/lwip/transfer.c receives with. */
const DRAIN_BUFFER = 256 * 1024

/** The engine's connection under `flow` (for its counters and state). */
export const connectionOf = (engine: TcpEngine, flow: Flow): Connection => {
  const address = (endpoint: { readonly address: string }) => parseIpv4(endpoint.address) as number
  const c = engine.find(address(flow.local), flow.local.port, address(flow.remote), flow.remote.port)
  if (c === undefined) throw new Error(`no connection under ${flow.local.address}:${flow.local.port}`)
  return c
}

/** The kernel's counter `name` (as `nstat` names it: `TcpExtTCPDSACKRecv`, `IpFragCreates`…) in namespace `ns`. */
export const kernelCounter = (ns: string, name: string): number => {
  const out = spawnSync("ip", ["netns", "exec", ns, "nstat", "-asz", name], { encoding: "utf8" }).stdout
  return Number(new RegExp(`${name}\\s+(\\d+)`).exec(out)?.[1] ?? "0")
}

/** Keeps this thread (and with it our stack) busy for `ms`: the whole process stalls, as in a long GC pause. */
export const stall = (ms: number): Effect.Effect<void> =>
  Effect.sync(() => {
    const end = Date.now() + ms
    while (Date.now() < end);
  })

/** A `tcp.listen` handler writing back everything it reads, then shutting down. */
export const echo = (flow: Flow): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (let chunk = yield* flow.read; chunk !== undefined; chunk = yield* flow.read) yield* flow.write(chunk)
    yield* flow.shutdown
  }).pipe(Effect.ignore)
