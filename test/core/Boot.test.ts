import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { boot, ExitCode, helpText, type BootIO } from "../../src/core/Boot.ts"
import * as Key from "../../src/core/Key.ts"
import * as KeyType from "../../src/core/KeyType.ts"
import { logsKey } from "../../src/core/Log.ts"
import { Time } from "../../src/core/Time.ts"

const hello = Key.create("hello", KeyType.string, { doc: "How to say hello.", default: "Hola!" })
const kvRo = Key.create("kv_ro", KeyType.choice("KV_RO", ["crunch", "direct"]), {
  doc: "KV store.",
  default: "crunch",
  stage: "configure",
})
const keys = [hello, kvRo, logsKey]

/** Boot a program with captured IO; resolves with the exit code and output. */
const run = <E>(program: Effect.Effect<void, E, Time>, argv: Array<string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    let stdout = ""
    let stderr = ""
    const io: BootIO = {
      argv,
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      exit: (code) => resolve({ code, stdout, stderr }),
    }
    boot({ name: "hello", target: "unix", devices: Time.layer, program, keys }, io)
  })

const greet = Effect.gen(function* () {
  yield* Effect.log(yield* hello)
  yield* Effect.logDebug(`kv_ro is ${yield* kvRo}`)
})

describe("booting a unikernel", () => {
  it("provides configured defaults and runtime overrides to the program", async () => {
    const plain = await run(greet, [])
    expect(plain.code).toBe(ExitCode.ok)
    expect(plain.stderr).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d: INF \[application\] Hola!\n$/)
    const overridden = await run(greet, ["--hello=Hi!", "-l", "*:debug"])
    expect(overridden.stderr).toContain("INF [application] Hi!")
    expect(overridden.stderr).toContain("DBG [application] kv_ro is crunch")
  })

  it("prints help listing runtime keys and exits 63", async () => {
    const result = await run(greet, ["--help"])
    expect(result.code).toBe(63)
    expect(result.stdout).toContain("--hello=VAL (absent=Hola!)\n           How to say hello.")
    expect(result.stdout).toContain("-l LEVEL, --logs=LEVEL (absent=*:info)")
    expect(result.stdout).not.toContain("--kv_ro")
  })

  it("exits 64 with a message for unknown and configure-only arguments", async () => {
    const unknown = await run(greet, ["--nope"])
    expect(unknown.code).toBe(64)
    expect(unknown.stderr).toContain("hello: unknown argument --nope")
    const fixed = await run(greet, ["--kv_ro=direct"])
    expect(fixed.code).toBe(64)
    expect(fixed.stderr).toContain("--kv_ro is fixed at configure time")
  })

  it("exits 1 and logs the error when the program fails", async () => {
    const result = await run(Effect.fail(new Error("disk on fire")), [])
    expect(result.code).toBe(ExitCode.failure)
    expect(result.stderr).toContain("ERR [application] unikernel failed: disk on fire")
  })

  it("exits 1 when a device layer fails to build", async () => {
    let stderr = ""
    const code = await new Promise<number>((resolve) =>
      boot({
        name: "broken",
        target: "unix",
        devices: Layer.effect(Time, Effect.fail(new Error("no clock"))),
        program: Effect.void,
        keys: [logsKey],
      }, { argv: [], stdout: () => {}, stderr: (t) => (stderr += t), exit: resolve })
    )
    expect(code).toBe(1)
    expect(stderr).toContain("no clock")
  })

  it("help text shows the target", () => {
    expect(helpText("hello", "unix", keys)).toContain("hello - an effect-uk unikernel (target unix)")
  })
})

it("device layers see the runtime keys", async () => {
  const seen: Array<string> = []
  const device = Layer.effectDiscard(Effect.map(Effect.service(hello), (value) => void seen.push(value)))
  await new Promise<number>((resolve) =>
    boot({ name: "k", target: "unix", devices: Layer.merge(Time.layer, device), program: Effect.void, keys }, {
      argv: ["--hello=from argv"],
      stdout: () => {},
      stderr: () => {},
      exit: resolve,
    })
  )
  expect(seen).toEqual(["from argv"])
})
