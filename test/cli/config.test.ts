/**
 * The configuration side of the effect-uk command: type errors for missing
 * devices, error locations in config.ts, targets, keys, steps, staleness,
 * query, describe and depend.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cli, listFiles, logLines, root, run, tempUnikernel } from "./cli.ts"

afterAll(() => fs.rmSync(path.join(root, "test/.tmp"), { recursive: true, force: true }))

const helloProgram = `
import { Effect } from "effect"
import { Time } from "effect-uk"
export const Hello = Effect.gen(function* () {
  const time = yield* Time
  yield* time.sleep("1 millis")
  yield* Effect.log("first version")
})
`

const config = (body: string) => `
import { defaultTime, defaultConsole, foreign, register, Key, KeyType } from "effect-uk/config"
import * as Unikernel from "./unikernel.ts"
${body}
`

describe("configure and build errors", () => {
  it("a config.ts that forgets a device fails build with a type error naming the service", () => {
    const dir = tempUnikernel("missing", {
      "unikernel.ts": helloProgram,
      "config.ts": config(`export default register({ name: "hello", main: foreign(Unikernel, "Hello"), devices: [defaultConsole] })`),
    })
    expect(cli("configure", dir).code).toBe(0)
    const built = cli("build", dir)
    expect(built.code).toBe(1)
    expect(built.stderr).toContain("type errors:")
    expect(built.stderr).toMatch(/config\.ts:\d+:\d+: .*MissingDevices<Time>/)
    expect(built.stderr).toMatch(/_build\/main\.ts:\d+:\d+: /)
    expect(built.stderr).toContain("Type 'Time' is not assignable")
    expect(fs.existsSync(path.join(dir, "hello"))).toBe(false)
  })

  it("reports a syntax error in config.ts as file:line:col", () => {
    const dir = tempUnikernel("syntax", { "config.ts": "export default register({\n  name: \"x\",,\n})\n" })
    const result = cli("configure", dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/config\.ts:2:13: /)
    expect(result.stderr).not.toContain("    at ")
  })

  it("reports an error thrown by config.ts at its line, not a stack trace of the tool", () => {
    const dir = tempUnikernel("throws", {
      "unikernel.ts": helloProgram,
      "config.ts": config(`\nexport default register({ name: "Not Valid", main: foreign(Unikernel, "Hello"), devices: [defaultTime] })`),
    })
    const result = cli("configure", dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/config\.ts:5:\d+: unikernel name "Not Valid" is not valid/)
    expect(result.stderr).not.toContain("    at ")
  })

  it("refuses unknown targets", () => {
    const result = cli("configure", "-t", "amiga", "examples/hello")
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain(`"amiga"`)
  })

  it("refuses bad key values, unknown keys and runtime-only keys at configure", () => {
    const dir = tempUnikernel("keys", {
      "unikernel.ts": helloProgram,
      "config.ts": config(`
const port = Key.create("port", KeyType.port, { doc: "Port.", default: 80, stage: "runtime" })
export default register({ name: "k", main: foreign(Unikernel, "Hello"), devices: [defaultTime], keys: [port] })`),
    })
    expect(cli("configure", dir, "--port=8080").stderr).toContain("--port can only be given when running the unikernel")
    expect(cli("configure", dir, "--prot=1").stderr).toContain("unknown argument --prot (did you mean --port?)")
    expect(cli("configure", dir, "-l", "net:loud").stderr).toContain(`invalid value "net:loud" for --logs`)
    expect(cli("configure", dir, "--logs", "net:debug").code).toBe(0)
    expect(JSON.parse(cli("query", "manifest", dir, "-l", "*:debug").stdout).keys.find((k: any) => k.name === "logs").value)
      .toBe("*:debug")
  })

  it("says a directory without config.ts has none", () => {
    const result = cli("build", "test")
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("no config.ts in test")
  })
})

describe("dependencies in CommonJS", () => {
  it("configures, builds and runs a unikernel whose CommonJS module requires a Node module", () => {
    const dir = tempUnikernel("commonjs", {
      "legacy.cjs": `const { EventEmitter } = require("events")\nmodule.exports = { greet: () => { const e = new EventEmitter(); let said = ""; e.on("x", (w) => { said = w }); e.emit("x", "hello from CommonJS"); return said } }\n`,
      "legacy.d.cts": "declare const legacy: { greet(): string }\nexport = legacy\n",
      "unikernel.ts": `
import { Effect } from "effect"
import legacy from "./legacy.cjs"
export const Hello = Effect.log(legacy.greet())
`,
      "config.ts": config(`export default register({ name: "commonjs", main: foreign(Unikernel, "Hello"), devices: [] })`),
    })
    const ran = cli("run", dir)
    expect(ran.stderr).not.toContain("Dynamic require")
    expect(ran.code).toBe(0)
    expect(logLines(ran.stderr)).toContain("INF [application] hello from CommonJS")
  })
})

describe("steps, staleness and clean", () => {
  it("runs build steps, rebuilds when the program changes, and clean leaves only the sources", () => {
    const dir = tempUnikernel("steps", {
      "unikernel.ts": helloProgram,
      "config.ts": config(`
import { Effect } from "effect"
import * as fs from "node:fs"
export default register({
  name: "stepper",
  main: foreign(Unikernel, "Hello"),
  devices: [defaultTime],
  steps: [{
    description: "make data.txt",
    files: ["data.txt"],
    build: () => Effect.sync(() => fs.writeFileSync("data.txt", "made by a step")),
    clean: () => Effect.sync(() => fs.writeFileSync("cleaned.txt", "clean step ran")),
  }],
})`),
    })
    const sources = listFiles(dir)
    const first = cli("run", dir)
    expect(first.code).toBe(0)
    expect(logLines(first.stderr)).toContain("INF [application] first version")
    expect(fs.readFileSync(path.join(dir, "data.txt"), "utf8")).toBe("made by a step")
    expect(cli("query", "files", dir).stdout.split("\n")).toEqual(["_build", "stepper", "data.txt", ""])

    const unchanged = cli("run", dir)
    expect(unchanged.stderr).not.toContain("bundling")
    fs.writeFileSync(path.join(dir, "unikernel.ts"), helloProgram.replace("first version", "second version"))
    const changed = cli("run", dir)
    expect(changed.stderr).toContain("bundling")
    expect(logLines(changed.stderr)).toContain("INF [application] second version")

    expect(cli("clean", dir).code).toBe(0)
    expect(fs.readFileSync(path.join(dir, "cleaned.txt"), "utf8")).toBe("clean step ran")
    fs.rmSync(path.join(dir, "cleaned.txt"))
    expect(listFiles(dir)).toEqual(sources)
  })

  it("run keeps the configure-time keys when it configures again", () => {
    const dir = tempUnikernel("rekey", {
      "unikernel.ts": `
import { Effect } from "effect"
import { Key, KeyType } from "effect-uk"
export const greeting = Key.create("greeting", KeyType.string, { doc: "Greeting.", default: "Hello" })
export const Main = { start: Effect.gen(function* () { yield* Effect.log(yield* greeting) }) }
`,
      "config.ts": config(`export default register({ name: "g", main: foreign(Unikernel, "Main"), devices: [], keys: [Unikernel.greeting] })`),
    })
    expect(cli("configure", dir, "--greeting", "Salut").code).toBe(0)
    fs.utimesSync(path.join(dir, "config.ts"), new Date(), new Date(Date.now() + 5000))
    const result = cli("run", dir, "--", "-l", "*:info")
    expect(logLines(result.stderr)).toContain("INF [application] Salut")
    const overridden = cli("run", dir, "--", "--greeting=Ciao")
    expect(logLines(overridden.stderr)).toContain("INF [application] Ciao")
  })
})

describe("query, describe and depend", () => {
  it("query answers name, packages, files and the manifest", () => {
    expect(cli("query", "name", "examples/hello").stdout).toBe("hello\n")
    const manifest = JSON.parse(cli("query", "manifest", "examples/hello-key", "--hello=Hej").stdout)
    expect(manifest.target).toBe("unix")
    expect(manifest.devices).toEqual([expect.objectContaining({ name: "time", service: "Time", layer: "Target.time" })])
    expect(manifest.keys.find((k: any) => k.name === "hello")).toMatchObject({ value: "Hej", default: "Hello World!" })
  })

  it("describe --dot prints the device graph", () => {
    const dot = cli("describe", "--dot", "examples/console").stdout
    expect(dot).toContain(`digraph "console" {`)
    expect(dot).toContain(`main -> "console";`)
    expect(dot).toContain(`main -> "time";`)
    const text = cli("describe", "examples/console").stdout
    expect(text).toContain("console: Console = unix console")
  })

  it("depend installs the configuration's packages into its npm project", () => {
    const dir = tempUnikernel("depend", {
      "package.json": JSON.stringify({ name: "depend-test", version: "1.0.0", private: true }),
      "vendor/tiny/package.json": JSON.stringify({ name: "tiny-dep", version: "1.0.0", main: "index.js" }),
      "vendor/tiny/index.js": "module.exports = 42\n",
      "unikernel.ts": helloProgram,
      "config.ts": config(
        `export default register({ name: "d", main: foreign(Unikernel, "Hello"), devices: [defaultTime], packages: ["file:./vendor/tiny"] })`,
      ),
    })
    expect(cli("configure", dir).code).toBe(0)
    expect(cli("query", "packages", dir).stdout).toBe("file:./vendor/tiny\n")
    const result = cli("depend", dir)
    expect(result.code).toBe(0)
    expect(fs.existsSync(path.join(dir, "node_modules/tiny-dep/index.js"))).toBe(true)
    expect(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).dependencies).toBeUndefined()
    expect(run(process.execPath, ["-e", `console.log(require(${JSON.stringify(path.join(dir, "node_modules/tiny-dep"))}))`]).stdout)
      .toBe("42\n")
  })
})
