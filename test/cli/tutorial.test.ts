/**
 * The first steps of the MirageOS tutorial, as a user runs them: configure,
 * build and run each example with the effect-uk command, and check what the
 * unikernel prints and how it exits.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cli, listFiles, logLines, root, run } from "./cli.ts"

const example = (name: string) => path.join("examples", name)

/** Configure and build an example; returns the files it had before, for the clean check. */
const configureAndBuild = (name: string, ...keys: Array<string>) => {
  const before = listFiles(path.join(root, example(name)))
  const configured = cli("configure", "-t", "unix", example(name), ...keys)
  expect(configured.stderr).toContain("configured")
  expect(configured.code).toBe(0)
  const built = cli("build", example(name))
  expect(built.stderr).toContain("built")
  expect(built.code).toBe(0)
  return before
}

/** Clean an example and check the folder is as it was before configure. */
const cleanAndCompare = (name: string, before: Array<string>) => {
  expect(cli("clean", example(name)).code).toBe(0)
  expect(listFiles(path.join(root, example(name)))).toEqual(before)
}

describe("tutorial step 0: noop", () => {
  for (const name of ["noop", "noop-functor"]) {
    it(`${name} builds ./noop that exits 0 at once`, () => {
      const before = configureAndBuild(name)
      const result = run(path.join(root, example(name), "noop"), [])
      expect(result).toEqual({ code: 0, stdout: "", stderr: "" })
      cleanAndCompare(name, before)
    })
  }
})

describe("tutorial step 1: hello", () => {
  it("effect-uk run examples/hello prints four INF lines, a second apart", () => {
    const started = Date.now()
    const result = cli("run", example("hello"))
    const elapsed = Date.now() - started
    expect(result.code).toBe(0)
    expect(logLines(result.stderr).filter((l) => l.startsWith("INF"))).toEqual(Array(4).fill("INF [application] hello"))
    expect(elapsed).toBeGreaterThanOrEqual(3900)
    expect(cli("clean", example("hello")).code).toBe(0)
  })

  it("hello-key: configure value is the default, runtime value overrides, --help exits 63, --nope 64", () => {
    const before = configureAndBuild("hello-key", "--hello=Hola!", "--interval", "0")
    const hello = path.join(root, example("hello-key"), "hello")
    const configured = run(hello, [])
    expect(configured.code).toBe(0)
    expect(logLines(configured.stderr)).toEqual(Array(4).fill("INF [application] Hola!"))
    const overridden = run(hello, ["--hello=Hi!"])
    expect(logLines(overridden.stderr)).toEqual(Array(4).fill("INF [application] Hi!"))
    const help = run(hello, ["--help"])
    expect(help.code).toBe(63)
    expect(help.stdout).toContain("UNIKERNEL PARAMETERS\n       --hello=VAL (absent=Hola!)\n           How to say hello.")
    const bad = run(hello, ["--nope"])
    expect(bad.code).toBe(64)
    expect(bad.stderr).toContain("hello: unknown argument --nope")
    const badValue = run(hello, ["--interval=soon"])
    expect(badValue.code).toBe(64)
    expect(badValue.stderr).toContain(`invalid value "soon" for --interval: expected an integer`)
    cleanAndCompare("hello-key", before)
  })

  it("the built unikernel also runs on an older node from PATH", () => {
    const before = configureAndBuild("hello", "--interval=0")
    const bundle = path.join(root, example("hello"), "_build/hello.mjs")
    for (const node of ["/usr/bin/node", "/usr/local/bin/node"].filter((n) => fs.existsSync(n))) {
      const result = run(node, [bundle])
      expect(result.code).toBe(0)
      expect(logLines(result.stderr)).toHaveLength(4)
    }
    cleanAndCompare("hello", before)
  })

  it("help configure lists the keys under UNIKERNEL PARAMETERS", () => {
    const result = cli("help", "configure", example("hello-key"))
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("UNIKERNEL PARAMETERS\n       --hello=VAL (absent=Hello World!)\n           How to say hello.")
    expect(result.stdout).toContain("-t TARGET, --target=TARGET (absent=unix)")
  })
})

describe("console (2015 tutorial)", () => {
  it("prints hello and world five times through the Console device", () => {
    const before = configureAndBuild("console", "--interval=0")
    const result = run(path.join(root, example("console"), "console"), [])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe("hello\nworld\n".repeat(5))
    cleanAndCompare("console", before)
  })
})
