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

/**
 * Jiffies of the whole machine from /proc/stat: busy (running anything),
 * stolen (a virtual CPU was ready but the hypervisor ran something else) and
 * total. Guest time is already counted in user and nice, so it is left out.
 */
const jiffies = () => {
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
  const busy = user + nice + system + irq + softirq
  return { busy, stolen: steal, total: busy + idle + iowait + steal }
}

/**
 * Starts measuring the machine's CPU; `since()` gives, from then on, how many
 * cores were busy on average and the share of the machine's time the
 * hypervisor took (on a shared host, a run with much stolen time ran slow).
 */
export const machineCpu = () => {
  const start = jiffies()
  const count = cpus().length
  return {
    since: (): { readonly cores: number; readonly stolen: number } => {
      const end = jiffies()
      const total = Math.max(1, end.total - start.total)
      return { cores: ((end.busy - start.busy) / total) * count, stolen: (end.stolen - start.stolen) / total }
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
