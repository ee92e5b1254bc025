/**
 * Raw TAP echo through the addon, the method of bench/frames.ts, as a
 * function: bench/frames.ts tabulates it, bench/tcp.ts takes its 1514-byte
 * rate as the frame ceiling. In a throw-away network namespace, a C
 * AF_PACKET sender (bench/flood.c, 64 frames per system call, faster than
 * any echo here) pushes frames into a TAP that this process opened, for a
 * fixed time; we echo every frame back, either straight through the addon
 * ("addon") or through the `Netif` layer's Stream ("netif"). The echo rate is
 * measured in a steady-state window (skipping the start and the tail); the
 * kernel's TAP counters say how many frames it sent us, got back, and dropped
 * because we were slower than the sender.
 */
import { Effect, Stream } from "effect"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Netif } from "../src/net/Netif.ts"
import { layerTap, loadTapAddon } from "../src/net/NetifTap.ts"
import { machineCpu } from "./common.ts"

/** bench/flood.c, built once per process (gcc) into a temporary directory. */
let flood: string | undefined
const floodProgram = (): string => {
  if (flood !== undefined) return flood
  const out = join(mkdtempSync(join(tmpdir(), "euk-flood-")), "flood")
  const built = spawnSync("gcc", ["-O2", "-Wall", "-o", out, fileURLToPath(new URL("flood.c", import.meta.url))], { encoding: "utf8" })
  if (built.status !== 0) throw new Error(`cannot build bench/flood.c (apt-get install -y gcc): ${built.stderr ?? built.error}`)
  return (flood = out)
}

/** Sender run time, and the measured window inside it (seconds after our first echo). */
export const SEND_SECONDS = 2.5
export const WINDOW = { from: 0.5, to: 2.0 } as const
/** One echo measurement. */
export interface EchoRow {
  readonly mode: "addon" | "netif"
  readonly frameBytes: number
  readonly framesPerSecond: number
  readonly megabytesPerSecond: number
  readonly senderFramesPerSecond: number
  readonly kernelSent: number
  readonly kernelGotBack: number
  readonly kernelDropped: number
  /** Cores this process kept busy while the sender ran. */
  readonly processCores: number
  /** Cores the whole machine kept busy while the sender ran (sender and kernel included). */
  readonly machineCores: number
  /** The share of the machine's CPU time the hypervisor took during the run. */
  readonly machineStolen: number
}

const ip = (...args: Array<string>) => execFileSync("ip", args, { encoding: "utf8" })

const counters = (ns: string, tap: string) => {
  const stats = JSON.parse(ip("-n", ns, "-s", "-j", "link", "show", tap))[0].stats64
  return { tx: stats.tx.packets as number, txDropped: stats.tx.dropped as number, rx: stats.rx.packets as number }
}

/** Counts echoed frames; samples the totals at the window's edges after the first frame. */
const meter = () => {
  let frames = 0
  let bytes = 0
  let last = 0
  const samples: Array<{ at: number; frames: number; bytes: number }> = []
  const sample = () => samples.push({ at: performance.now(), frames, bytes })
  return {
    add: (batch: ReadonlyArray<Uint8Array>) => {
      if (frames === 0) {
        setTimeout(sample, WINDOW.from * 1000)
        setTimeout(sample, WINDOW.to * 1000)
      }
      last = performance.now()
      frames += batch.length
      for (const frame of batch) bytes += frame.length
    },
    quietFor: (ms: number) => frames > 0 && performance.now() - last > ms,
    rate: () => {
      const [a, b] = samples
      if (a === undefined || b === undefined) return { framesPerSecond: 0, bytesPerSecond: 0 }
      const seconds = (b.at - a.at) / 1000
      return { framesPerSecond: (b.frames - a.frames) / seconds, bytesPerSecond: (b.bytes - a.bytes) / seconds }
    },
  }
}

const runSender = (ns: string, tap: string, size: number) =>
  new Promise<number>((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns, floodProgram(), tap, String(size), String(SEND_SECONDS)])
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => process.stderr.write(d))
    child.on("exit", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`sender exited ${code}`))))
  })

const waitQuiet = async (m: ReturnType<typeof meter>) => {
  for (let i = 0; i < 100 && !m.quietFor(300); i++) await new Promise((r) => setTimeout(r, 50))
}

/** One measurement: a fresh namespace + TAP, echo frames of `size` bytes with `mode`, tear down. */
export const measureEcho = async (mode: EchoRow["mode"], size: number): Promise<EchoRow> => {
  const id = randomBytes(4).toString("hex")
  const ns = `euk-b-${id}`
  const tap = `eukb${id}`
  ip("netns", "add", ns)
  try {
    const m = meter()
    let senderRate = 0
    let cores = { process: 0, machine: 0, stolen: 0 }
    /** Runs once the TAP is open and echoing. */
    const configureAndSend = async () => {
      ip("link", "set", tap, "netns", ns)
      ip("-n", ns, "link", "set", tap, "addrgenmode", "none")
      ip("-n", ns, "link", "set", tap, "up")
      const before = counters(ns, tap)
      const machine = machineCpu()
      const cpu = process.cpuUsage()
      const start = performance.now()
      senderRate = await runSender(ns, tap, size)
      const used = process.cpuUsage(cpu)
      const { cores: machineCores, stolen } = machine.since()
      cores = { process: (used.user + used.system) / 1000 / (performance.now() - start), machine: machineCores, stolen }
      await waitQuiet(m)
      const after = counters(ns, tap)
      return { sent: after.tx - before.tx, dropped: after.txDropped - before.txDropped, gotBack: after.rx - before.rx }
    }
    let kernel = { sent: 0, dropped: 0, gotBack: 0 }
    if (mode === "addon") {
      const addon = await Effect.runPromise(loadTapAddon())
      const device = addon.openTap(tap)
      try {
        addon.start(device.handle, (data, lengths) => {
          const batch = new Array<Uint8Array>(lengths.length)
          for (let i = 0, offset = 0; i < lengths.length; offset += lengths[i]!, i++) batch[i] = new Uint8Array(data, offset, lengths[i]!)
          m.add(batch)
          addon.write(device.handle, batch, 0)
        })
        kernel = await configureAndSend()
      } finally {
        addon.close(device.handle)
      }
    } else {
      await Effect.runPromise(Effect.gen(function* () {
        const netif = yield* Netif
        yield* Effect.forkScoped(Stream.runForEach(netif.frames, (batch) => {
          m.add(batch)
          return netif.writeBatch(batch)
        }))
        kernel = yield* Effect.promise(configureAndSend)
      }).pipe(Effect.scoped, Effect.provide(layerTap({ name: tap }))))
    }
    const { framesPerSecond, bytesPerSecond } = m.rate()
    return {
      mode,
      frameBytes: size,
      framesPerSecond: Math.round(framesPerSecond),
      megabytesPerSecond: Math.round(bytesPerSecond / 1e5) / 10,
      senderFramesPerSecond: Math.round(senderRate),
      kernelSent: kernel.sent,
      kernelGotBack: kernel.gotBack,
      kernelDropped: kernel.dropped,
      processCores: Math.round(cores.process * 100) / 100,
      machineCores: Math.round(cores.machine * 100) / 100,
      machineStolen: Math.round(cores.stolen * 100) / 100,
    }
  } finally {
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" })
  }
}

