/**
 * The hvt and xen targets end to end, as the tutorial runs them: configure,
 * build the image, boot it with the launcher (under TCG where KVM cannot boot
 * a guest, a few seconds a boot), and check what the unikernel printed and
 * how it exited. The Xen image is not booted: its contents are read back and
 * its `.xl` is parsed with Xen's own parser.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { hasTool } from "../../src/cli/image/Command.ts"
import { vmOutputs } from "../../src/cli/image/Image.ts"
import { kernel } from "../../src/cli/image/Packages.ts"
import { cli, logLines, root, run } from "../cli/cli.ts"
import { readCpio } from "./cpio.ts"
import { xlCheck, xlCheckUnavailable } from "./xlcheck.ts"

/** Scratch copies of the examples, this file's own (test/.tmp is removed by other files when they finish). */
const scratch = path.join(root, "test/hvt/.tmp", `vm-${process.pid}`)
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

/** Why images cannot be built here (no apt-get, no Debian mirror), or undefined. */
const noImage = ((): string | undefined => {
  try {
    kernel()
    return undefined
  } catch (error) {
    return `the kernel package cannot be had: ${(error as Error).message}`
  }
})()
const noQemu = hasTool("qemu-system-x86_64") ? undefined : "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
const noBoot = noImage ?? noQemu
for (const reason of new Set([noImage, noQemu])) if (reason) console.warn(`test/hvt: skipping: ${reason}`)

/** Copy an example into the scratch folder, configure it for `target`, build it and check the outputs; returns its folder. */
const built = (example: string, name: string, target: "hvt" | "xen") => {
  const dir = path.join(scratch, `${example}-${target}`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.cpSync(path.join(root, "examples", example), dir, { recursive: true })
  expect(cli("configure", "-t", target, dir).code).toBe(0)
  const build = cli("build", dir)
  expect(build.stderr).toContain(`writing ${path.relative(root, dir)}/`)
  expect(build.code).toBe(0)
  const outputs = vmOutputs(name, target)
  for (const file of [outputs.image, outputs.boot, "_build/vmlinuz"]) expect(fs.existsSync(path.join(dir, file)), file).toBe(true)
  return dir
}

describe.skipIf(noBoot !== undefined)("hvt", () => {
  it("hello-key boots with --hello=Hola!, logs Hola! four times and exits 0", () => {
    const dir = built("hello-key", "hello", "hvt")
    const started = Date.now()
    const result = run(path.join(dir, "hello-hvt"), [path.join(dir, "hello.hvt"), "--hello=Hola!"])
    console.log(`hello-key hvt boot: ${Date.now() - started} ms`)
    expect(logLines(result.stdout)).toEqual(Array(4).fill("INF [application] Hola!"))
    expect(result.code).toBe(0)
  }, 180_000)

  it("block_test with --disk=disk.img passes every check, and its writes reach the file", () => {
    const dir = built("block", "block_test", "hvt")
    const disk = path.join(dir, "disk.img")
    const result = run(path.join(dir, "block_test-hvt"), [`--disk=${disk}`, path.join(dir, "block_test.hvt")])
    const lines = logLines(result.stdout).filter((l) => l !== "")
    expect(lines).toContain("INF [block] sectors = 100000")
    expect(lines.at(-1)).toBe("INF [block] Total tests failed:  0")
    expect(result.code).toBe(0)
    // The last write at sector 0 was 12 sectors of the fifth pattern: byte i is (i * 31 + 36) & 0xff.
    expect([...fs.readFileSync(disk).subarray(0, 4)]).toEqual([36, 67, 98, 129])
  }, 180_000)
})

describe.skipIf(noImage !== undefined)("xen", () => {
  it("block_test builds an image with the Xen drivers and an .xl that Xen's parser accepts", () => {
    const dir = built("block", "block_test", "xen")
    const members = new Map(readCpio(path.join(dir, "block_test.xen")).map((m) => [m.path, m]))
    for (const file of ["init", "bin/node", "bin/busybox", "lib/modules/xen_blkfront.ko", "app/block_test.mjs", "dev/console"]) {
      expect(members.has(file), file).toBe(true)
    }
    expect([...members.keys()].some((file) => file.includes("virtio"))).toBe(false)
    const init = new TextDecoder().decode(members.get("init")!.data)
    expect(init).toContain("load xen_blkfront\n")
    expect(new TextDecoder().decode(members.get("effect-uk/disks")!.data)).toBe("block\n")
    const unavailable = xlCheckUnavailable()
    if (unavailable !== undefined) {
      console.warn(`test/hvt: not parsing the .xl with Xen's parser: ${unavailable}`)
      return
    }
    const parsed = xlCheck(path.join(dir, "block_test.xl"))
    expect(parsed.output.split("\n")).toEqual([
      "name=block_test",
      "type=pvh",
      `kernel=${path.join(dir, "_build/vmlinuz")}`,
      `ramdisk=${path.join(dir, "block_test.xen")}`,
      "cmdline=console=hvc0 quiet loglevel=0 panic=-1 --",
      "memory=512",
      `disk=xvda ${path.join(dir, "disk.img")} rw`,
      "",
    ])
    expect(parsed.ok).toBe(true)
    expect(fs.existsSync(path.join(dir, "_build/vmlinuz"))).toBe(true)
  }, 180_000)
})
