/**
 * Raw TAP echo through the addon: the ceiling for everything built on `Netif`.
 *
 * Run as root: `node_modules/.bin/node bench/frames.ts`. The method is
 * bench/tapEcho.ts's, for 60- and 1514-byte frames, straight through the
 * addon and through the `Netif` layer's Stream.
 * Prints a table (median of RUNS runs) and writes `bench/results/frames.json`.
 */
import type { EchoRow } from "./tapEcho.ts"
import { measureEcho, SEND_SECONDS, WINDOW } from "./tapEcho.ts"
import { requireRoot, writeResults } from "./common.ts"

/** Runs per configuration; the median is reported. */
const RUNS = 3

const main = async () => {
  requireRoot("bench/frames")
  const rows: Array<EchoRow> = []
  for (const size of [60, 1514]) {
    for (const mode of ["addon", "netif"] as const) {
      const runs: Array<EchoRow> = []
      for (let i = 0; i < RUNS; i++) runs.push(await measureEcho(mode, size))
      rows.push(runs.sort((a, b) => a.framesPerSecond - b.framesPerSecond)[RUNS >> 1]!) // the median run
    }
  }
  console.table(rows)
  writeResults("frames", {
    method: `sender runs ${SEND_SECONDS} s; echo rate measured ${WINDOW.from}..${WINDOW.to} s after the first echo; median of ${RUNS} runs`,
    note: "kernelDropped > 0: the sender offered more than we echoed, so framesPerSecond is the echo ceiling on this " +
      "machine (sender, kernel and echo share its CPUs); with kernelDropped = 0 the sender was the limit.",
    rows,
  })
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
