/**
 * Tutorial steps 2 and 3 through the effect-uk command: the block device
 * test on disk.img, and the key-value examples with every `--kv_ro` store.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { cli, listFiles, logLines, root, run, tempUnikernel } from "./cli.ts"

afterAll(() => fs.rmSync(path.join(root, "test/.tmp"), { recursive: true, force: true }))

const modes = ["crunch", "direct", "fat", "archive"] as const

/** A copy of examples/kv_ro (its unikernel.ts and config.ts) in a scratch folder, with `files` for its store. */
const kvRoCopy = (name: string, files: Record<string, string>) =>
  tempUnikernel(name, {
    "unikernel.ts": fs.readFileSync(path.join(root, "examples/kv_ro/unikernel.ts"), "utf8"),
    "config.ts": fs.readFileSync(path.join(root, "examples/kv_ro/config.ts"), "utf8"),
    ...files,
  })

describe("step 2: a block device", () => {
  it("block_test passes its ten checks on disk.img, and clean removes disk.img", () => {
    const dir = path.join(root, "examples/block")
    const before = listFiles(dir)
    expect(cli("configure", "-t", "unix", "examples/block").code).toBe(0)
    expect(cli("build", "examples/block").code).toBe(0)
    expect(fs.statSync(path.join(dir, "disk.img")).size).toBe(100_000 * 512)
    const result = run(path.join(dir, "block_test"), [])
    expect(result.code).toBe(0)
    const lines = logLines(result.stderr)
    expect(lines[0]).toBe("INF [block] sectors = 100000")
    expect(lines.filter((l) => l.startsWith("ERR [block] Expecting error output"))).toHaveLength(4)
    expect(lines).toContain("INF [block] Total tests started: 10")
    expect(lines).toContain("INF [block] Total tests passed:  10")
    expect(lines).toContain("INF [block] Total tests failed:  0")
    expect(cli("query", "files", "examples/block").stdout).toContain("disk.img")
    expect(cli("clean", "examples/block").code).toBe(0)
    expect(fs.existsSync(path.join(dir, "disk.img"))).toBe(false)
    expect(listFiles(dir)).toEqual(before)
  })
})

describe("step 3: key-value stores", () => {
  it("help configure shows --kv_ro=KV_RO (absent=crunch) with the choices", () => {
    const help = cli("help", "configure", "examples/kv_ro").stdout
    expect(help).toContain("--kv_ro=KV_RO (absent=crunch)")
    expect(help).toContain("(one of crunch, direct, fat, archive)")
  })

  for (const mode of modes) {
    it(`kv_ro confirms the secret with --kv_ro=${mode}; the key is fixed at configure time`, () => {
      const dir = path.join(root, "examples/kv_ro")
      const before = listFiles(dir)
      expect(cli("configure", "examples/kv_ro", `--kv_ro=${mode}`).code).toBe(0)
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "_build/manifest.json"), "utf8"))
      expect(manifest.keys.find((k: any) => k.name === "kv_ro").value).toBe(mode)
      expect(cli("build", "examples/kv_ro").code).toBe(0)
      const result = run(path.join(dir, "kv_ro"), [])
      expect(result.code).toBe(0)
      expect(logLines(result.stderr)).toEqual(["INF [application] Contents of extremely secret vital storage confirmed!"])
      const fixed = run(path.join(dir, "kv_ro"), ["--kv_ro=direct"])
      expect(fixed.code).toBe(64)
      expect(fixed.stderr).toContain("--kv_ro is fixed at configure time")
      expect(cli("clean", "examples/kv_ro").code).toBe(0)
      expect(listFiles(dir)).toEqual(before)
    })
  }

  for (const mode of modes) {
    it(`kv_ro_crunch prints YES! from two stores with --kv_ro=${mode}`, () => {
      expect(cli("configure", "examples/kv_ro_crunch", `--kv_ro=${mode}`).code).toBe(0)
      expect(cli("build", "examples/kv_ro_crunch").code).toBe(0)
      const result = run(path.join(root, "examples/kv_ro_crunch/kv_ro"), ["--rounds=3"])
      expect(result.code).toBe(0)
      expect(result.stdout).toBe("YES!\n".repeat(3))
      expect(cli("clean", "examples/kv_ro_crunch").code).toBe(0)
    })
  }

  it("a wrong secret fails the unikernel, and run rebuilds the crunch store when t/ changes", () => {
    const dir = kvRoCopy("kv", {
      "t/secret": "bar\n",
    })
    const wrong = cli("run", dir)
    expect(wrong.code).toBe(1)
    expect(logLines(wrong.stderr)).toContain("WRN [application] The secret provided does not match!")
    fs.writeFileSync(path.join(dir, "t/secret"), "foo\n")
    const right = cli("run", dir)
    expect(right.code).toBe(0)
    expect(right.stderr).toContain("crunch t/ into _build/kv_ro-t.ts")
    expect(logLines(right.stderr)).toContain("INF [application] Contents of extremely secret vital storage confirmed!")
  })

  it("a missing key is a typed error naming the key", () => {
    const dir = kvRoCopy("kvmissing", {
      "t/other": "x",
    })
    const result = cli("run", dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/ERR \[application\] unikernel failed: .*secret/)
  })
})
