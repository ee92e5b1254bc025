/**
 * Start-up of a built unikernel against plain Node, side by side in one run:
 * the time from exec to the first log line of examples/hello, against
 * `node -e` printing one line, and the size of the bundle.
 * Goal: overhead <= 30 ms, bundle <= 150 kB minified.
 *
 * Run: node bench/startup.ts [runs]   (writes bench/results/startup.json)
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { gzipSync } from "node:zlib"

const root = path.resolve(import.meta.dirname, "..")
const runs = Number(process.argv[2] ?? 30)
const cli = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, [path.join(root, "bin/effect-uk.js"), ...args], { cwd: root, encoding: "utf8" })
  if (result.status !== 0) throw new Error(`effect-uk ${args.join(" ")} failed:\n${result.stderr}`)
}

/** Milliseconds from spawn to the first line on stdout or stderr. */
const firstLine = (command: string, args: Array<string>) =>
  new Promise<number>((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })
    let done = false
    const onData = () => {
      if (done) return
      done = true
      resolve(Number(process.hrtime.bigint() - started) / 1e6)
      child.kill()
    }
    child.stdout.once("data", onData)
    child.stderr.once("data", onData)
    child.once("error", reject)
  })

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const percentile = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!

cli("configure", "-t", "unix", "examples/hello")
cli("build", "examples/hello")
const bundle = path.join(root, "examples/hello/_build/hello.mjs")
const launcher = path.join(root, "examples/hello/hello")
const bytes = fs.readFileSync(bundle)

const node: Array<number> = []
const unikernel: Array<number> = []
const direct: Array<number> = []
for (let i = 0; i < runs; i++) {
  node.push(await firstLine(process.execPath, ["-e", "console.log('hello')"]))
  unikernel.push(await firstLine(launcher, []))
  direct.push(await firstLine(process.execPath, [bundle]))
}
cli("clean", "examples/hello")

const rows = [
  { what: "node -e console.log (baseline)", median: median(node), p90: percentile(node, 0.9) },
  { what: "./hello (launcher + bundle)", median: median(unikernel), p90: percentile(unikernel, 0.9) },
  { what: "node _build/hello.mjs", median: median(direct), p90: percentile(direct, 0.9) },
]
const overhead = median(unikernel) - median(node)
const result = {
  node: process.version,
  runs,
  rows,
  overheadMs: overhead,
  overheadGoalMs: 30,
  bundleBytes: bytes.length,
  bundleGzipBytes: gzipSync(bytes).length,
  bundleGoalBytes: 150_000,
}
console.log(`start-up to first log line, ${runs} interleaved runs each (${process.version})\n`)
console.log("| command | median ms | p90 ms |\n|---|---:|---:|")
for (const r of rows) console.log(`| ${r.what} | ${r.median.toFixed(1)} | ${r.p90.toFixed(1)} |`)
console.log(`\noverhead of ./hello over node -e: ${overhead.toFixed(1)} ms (goal <= 30 ms): ${overhead <= 30 ? "met" : "NOT met"}`)
console.log(`bundle: ${(bytes.length / 1000).toFixed(1)} kB minified, ${(result.bundleGzipBytes / 1000).toFixed(1)} kB gzip (goal <= 150 kB): ${bytes.length <= 150_000 ? "met" : "NOT met"}`)
fs.mkdirSync(path.join(root, "bench/results"), { recursive: true })
fs.writeFileSync(path.join(root, "bench/results/startup.json"), JSON.stringify(result, null, 2) + "\n")
