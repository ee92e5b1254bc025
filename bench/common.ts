/**
 * What the network benchmarks share: the root check, medians, the machine's
 * busy CPU, and the results file with the machine it was measured on.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, release } from "node:os"
import { join } from "node:path"

/** Exits with a message unless running as root (namespaces and TAP devices need it). */
export const requireRoot = (bench: string): void => {
  if (process.getuid?.() === 0) return
  console.error(`${bench} needs root (network namespaces and TAP devices)`)
  process.exit(1)
}

/** The median of `values` (the upper one of an even count). */
export const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[values.length >> 1]!

/** Jiffies of the whole machine: busy and total, from /proc/stat. */
const jiffies = () => {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  return { busy: total - fields[3]! - fields[4]!, total }
}

/** Starts measuring the machine's CPU: `cores()` is how many cores were busy on average since. */
export const machineCpu = () => {
  const start = jiffies()
  const count = cpus().length
  return {
    cores: (): number => {
      const end = jiffies()
      return ((end.busy - start.busy) / Math.max(1, end.total - start.total)) * count
    },
  }
}

/** Writes `bench/results/<name>.json`: the date, Node, kernel and CPU, then `body`. */
export const writeResults = (name: string, body: Record<string, unknown>): void => {
  const results = join(import.meta.dirname, "results")
  mkdirSync(results, { recursive: true })
  writeFileSync(join(results, `${name}.json`), JSON.stringify({
    date: new Date().toISOString(),
    node: process.version,
    kernel: release(),
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
    ...body,
  }, null, 2) + "\n")
}
