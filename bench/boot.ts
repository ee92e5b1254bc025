/**
 * Boot benchmark: examples/hello-key (configured with --interval=0, so it
 * logs four lines and exits) on the unix target and as an hvt VM, from
 * launch to the first log line and to exit, and the size of what is run
 * (the bundle; the image plus the kernel). The VM runs under the accelerator
 * the launcher picks (TCG where KVM cannot boot a guest) and, when KVM works,
 * under TCG too.
 *
 * Run: node_modules/.bin/node bench/boot.ts [runs]   (writes bench/results/boot.json)
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { chooseHost } from "../src/cli/image/Accelerator.ts"
import { hostTscKhz } from "../src/cli/image/QemuCommand.ts"

const root = path.resolve(import.meta.dirname, "..")
const runs = Number(process.argv[2] ?? 5)
const scratch = path.join(root, "bench/.tmp-boot")

const cli = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, [path.join(root, "bin/effect-uk.js"), ...args], { cwd: root, encoding: "utf8" })
  if (result.status !== 0) throw new Error(`effect-uk ${args.join(" ")} failed:\n${result.stderr}`)
}

/** A copy of hello-key configured for `target` with no pause between lines, built. */
const build = (target: "unix" | "hvt") => {
  const dir = path.join(scratch, target)
  fs.cpSync(path.join(root, "examples/hello-key"), dir, { recursive: true })
  cli("configure", "-t", target, dir, "--interval=0")
  cli("build", dir)
  return dir
}

/** Milliseconds from spawn to the first log line and to exit; fails unless it exits 0 after four log lines. */
const time = (command: string, args: Array<string>) =>
  new Promise<{ readonly first: number; readonly exit: number }>((resolve, reject) => {
    const started = process.hrtime.bigint()
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let first: number | undefined
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (first === undefined && output.includes("INF [application]")) first = elapsed()
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("error", reject)
    child.once("close", (code) => {
      const lines = output.split("\n").filter((l) => l.includes("INF [application]")).length
      if (code !== 0 || lines !== 4 || first === undefined) reject(new Error(`${command} exited ${code} after ${lines} log lines:\n${output}`))
      else resolve({ first, exit: elapsed() })
    })
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

fs.rmSync(scratch, { recursive: true, force: true })
const unix = build("unix")
const hvt = build("hvt")
const image = path.join(hvt, "hello.hvt")
const kernel = path.join(hvt, "_build/vmlinuz")
const host = chooseHost(kernel, hostTscKhz(fs.readFileSync("/proc/cpuinfo", "utf8")))
const accelerators = host.accelerator === "kvm" ? ["kvm", "tcg"] : ["tcg"]

const rows: Array<{ what: string; firstMs: number; exitMs: number; bytes: number }> = []
const measure = async (what: string, command: string, args: Array<string>, bytes: number) => {
  const samples = []
  for (let i = 0; i < runs; i++) samples.push(await time(command, args))
  rows.push({ what, firstMs: median(samples.map((s) => s.first)), exitMs: median(samples.map((s) => s.exit)), bytes })
}
await measure("unix ./hello", path.join(unix, "hello"), [], fs.statSync(path.join(unix, "_build/hello.mjs")).size)
for (const accelerator of accelerators) {
  await measure(`hvt ./hello-hvt hello.hvt (${accelerator}, ${host.machine})`, path.join(hvt, "hello-hvt"),
    [`--accel=${accelerator}`, image], fs.statSync(image).size + fs.statSync(kernel).size)
}
fs.rmSync(scratch, { recursive: true, force: true })

const result = { node: process.version, runs, tcgReason: host.tcgReason ?? null, rows }
console.log(`hello-key (--interval=0): launch to first log line and to exit, median of ${runs} runs (${process.version})`)
if (host.tcgReason) console.log(`KVM not used: ${host.tcgReason}`)
console.log("\n| what | first line ms | exit ms | size MB |\n|---|---:|---:|---:|")
for (const r of rows) console.log(`| ${r.what} | ${r.firstMs.toFixed(0)} | ${r.exitMs.toFixed(0)} | ${(r.bytes / 1e6).toFixed(2)} |`)
fs.mkdirSync(path.join(root, "bench/results"), { recursive: true })
fs.writeFileSync(path.join(root, "bench/results/boot.json"), JSON.stringify(result, null, 2) + "\n")
