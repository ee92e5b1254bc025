/**
 * native/uring.h when io_uring_enter() itself fails: built with the seam of
 * failingUring.h into the uringRun harness, which runs one batch on a pipe.
 * A ring that breaks mid-batch must neither spin nor lose track: the
 * entries it did not take are taken back and reported as not run, those
 * that ran keep their results, and the call returns the ring's errno.
 * Skipped (reason printed) without a C compiler or io_uring.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import { join } from "node:path"

const here = import.meta.dirname
const harness = join(here, "..", ".tmp", "uringRun")
const EFAULT = 14
const COUNT = 4

/** Builds the harness; why not, if it cannot be. */
const build = (): string | undefined => {
  mkdirSync(join(here, "..", ".tmp"), { recursive: true })
  const cc = process.env["CC"] ?? "cc"
  const built = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-include", join(here, "failingUring.h"), "-o", harness, join(here, "uringRun.c")], { encoding: "utf8" })
  if (built.error !== undefined || built.status !== 0) return `cannot build test/native/uringRun.c (apt-get install -y gcc): ${built.stderr ?? built.error}`
  return undefined
}

/** What the harness reports of one batch (`op` of COUNT chunks) with io_uring_enter() failing as `fail` says. */
const run = (op: "write" | "read", fail = "") => {
  const result = spawnSync(harness, [op, String(COUNT)], { encoding: "utf8", timeout: 10_000, env: { ...process.env, EUK_TEST_URING_FAIL: fail } })
  if (result.status !== 0) throw new Error(`uringRun ${op} with EUK_TEST_URING_FAIL=${fail} ended with ${result.status ?? result.signal} (a hang is killed after 10 s): ${result.stderr}`)
  return JSON.parse(result.stdout) as { skip?: string; done: number; err: number; ringFailed: number; inPipe: number; ringEmpty: boolean; results: Array<number | null> }
}

const reason = build() ?? run("write").skip
if (reason !== undefined) console.log(`skipping uring.h failure tests: ${reason}`)

// The harness's first io_uring_enter() is its probe, so "1" breaks the ring at the batch's first call.
describe.skipIf(reason !== undefined)("uring.h when the ring itself fails", () => {
  it("a batch runs whole through a working ring", () => {
    expect(run("write")).toEqual({ done: COUNT, err: 0, ringFailed: 0, inPipe: COUNT, ringEmpty: true })
    expect(run("read")).toEqual({ results: [8, 8, 8, 8], ringFailed: 0, inPipe: 0, ringEmpty: true })
  })

  it("an interrupted call is made again: the batch still runs whole", () => {
    expect(run("write", "1:eintr")).toEqual({ done: COUNT, err: 0, ringFailed: 0, inPipe: COUNT, ringEmpty: true })
    expect(run("read", "1:eintr")).toEqual({ results: [8, 8, 8, 8], ringFailed: 0, inPipe: 0, ringEmpty: true })
  })

  it("a ring that takes nothing: nothing runs, every entry is taken back, the ring's errno is returned", () => {
    expect(run("write", "1:nothing")).toEqual({ done: 0, err: 0, ringFailed: EFAULT, inPipe: 0, ringEmpty: true })
    expect(run("read", "1:nothing")).toEqual({ results: [null, null, null, null], ringFailed: EFAULT, inPipe: COUNT, ringEmpty: true })
  })

  it("a ring that fails after taking one entry returns (no spinning), keeps what ran and takes the rest back", () => {
    // The read it took ran: its chunk is read, the other three are still in the pipe.
    expect(run("read", "1")).toEqual({ results: [8, null, null, null], ringFailed: EFAULT, inPipe: COUNT - 1, ringEmpty: true })
    // The first of a linked chain, taken alone, may run later (the kernel runs a cut chain asynchronously):
    // it is not reported done, and none after it was written.
    const write = run("write", "1")
    expect(write).toMatchObject({ done: 0, err: 0, ringFailed: EFAULT, ringEmpty: true })
    expect(write.inPipe).toBeLessThanOrEqual(1)
  })
})
