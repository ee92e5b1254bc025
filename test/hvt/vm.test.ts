/**
 * The hvt and xen targets end to end, as the tutorial runs them: configure,
 * build the image, boot it with the launcher (under TCG where KVM cannot boot
 * a guest, a few seconds a boot), and check what the unikernel printed and
 * how it exited. The network example boots with its NIC on tap0 inside a
 * network namespace the test creates and removes, and is reached with ping
 * and nc from there. The Xen images are not booted: their contents are read
 * back and their `.xl` files are parsed with Xen's own parser.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { hasTool } from "../../src/cli/image/Command.ts"
import { guestMac } from "../../src/cli/image/GuestMac.ts"
import { vmOutputs } from "../../src/cli/image/Image.ts"
import { kernel } from "../../src/cli/image/Packages.ts"
import { cli, logLines, root, run } from "../cli/cli.ts"
import { kernelSkipReason, toolSkipReason } from "../net/netif/netns.ts"
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
const noNetwork = noBoot ?? kernelSkipReason() ?? toolSkipReason("nc", "netcat-openbsd", ["-h"])
for (const reason of new Set([noImage, noQemu, noNetwork])) if (reason) console.warn(`test/hvt: skipping: ${reason}`)

/** Copy an example into the scratch folder, configure it for `target` with `keys`, build it and check the outputs; returns its folder. */
const built = (example: string, name: string, target: "hvt" | "xen", keys: ReadonlyArray<string> = []) => {
  const dir = path.join(scratch, [`${example}-${target}`, ...keys.map((key) => key.replace(/\W/g, ""))].join("-"))
  fs.rmSync(dir, { recursive: true, force: true })
  fs.cpSync(path.join(root, "examples", example), dir, { recursive: true })
  expect(cli("configure", "-t", target, dir, ...keys).code).toBe(0)
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

/** Run `command` inside the namespace `ns`. */
const inNs = (ns: string, command: string, args: ReadonlyArray<string>, input?: string) =>
  spawnSync("ip", ["netns", "exec", ns, command, ...args], { encoding: "utf8", timeout: 30_000, ...(input === undefined ? {} : { input }) })

/**
 * Boot the network example of `dir` with `--net=tap0` inside a fresh
 * namespace where tap0 is 10.0.0.1/24 (as the tutorial sets it up), wait
 * until `address` answers a ping, run `talk`, then stop the VM and return its
 * log lines. The namespace and everything running in it go, even on failure.
 */
const bootOnTap = async (dir: string, address: string, keys: ReadonlyArray<string>, talk: (ns: string) => void) => {
  const ns = `euk-hvtnet-${randomBytes(4).toString("hex")}`
  expect(spawnSync("ip", ["netns", "add", ns]).status).toBe(0)
  try {
    for (const args of [["link", "set", "lo", "up"], ["tuntap", "add", "dev", "tap0", "mode", "tap"], ["addr", "add", "10.0.0.1/24", "dev", "tap0"], ["link", "set", "tap0", "up"]]) {
      expect(inNs(ns, "ip", args).status).toBe(0)
    }
    const started = Date.now()
    const vm = spawn("ip", ["netns", "exec", ns, path.join(dir, "network-hvt"), "--net=tap0", path.join(dir, "network.hvt"), ...keys], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    let output = ""
    vm.stdout.on("data", (data) => (output += data))
    vm.stderr.on("data", (data) => (output += data))
    const exited = new Promise((resolve) => vm.once("exit", resolve))
    while (inNs(ns, "ping", ["-c", "1", "-W", "1", address]).status !== 0) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      if (Date.now() - started > 120_000 || vm.exitCode !== null) throw new Error(`the guest never answered a ping:\n${output}`)
    }
    console.log(`network hvt: boot to first ping answered: ${Date.now() - started} ms`)
    talk(ns)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    vm.kill("SIGTERM")
    await exited
    return logLines(output)
  } finally {
    const left = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split("\n").filter((pid) => pid !== "")
    for (const pid of left) spawnSync("kill", ["-KILL", pid])
    spawnSync("ip", ["netns", "del", ns])
  }
}

describe.skipIf(noNetwork !== undefined)("hvt networking", () => {
  /** Ping the guest and send it a line over TCP from the namespace; returns what ping printed. */
  const pingAndSend = (address: string, ping: { output: string }) => (ns: string) => {
    ping.output = inNs(ns, "ping", ["-c", "3", "-W", "2", address]).stdout
    inNs(ns, "nc", ["-nw1", address, "8080"], "hello tcp world")
  }

  it("network --net direct answers ping on its NIC and logs what nc sends", async () => {
    const dir = built("network", "network", "hvt", ["--net=direct"])
    const ping = { output: "" }
    const lines = await bootOnTap(dir, "10.0.0.2", [], pingAndSend("10.0.0.2", ping))
    expect(ping.output).toContain("3 packets transmitted, 3 received")
    expect(lines.some((l) => /^INF \[application\] new tcp connection from IP 10\.0\.0\.1 on port \d+$/.test(l))).toBe(true)
    expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
  }, 300_000)

  it("network --net socket takes its address from --ipv4 at run time and logs what nc sends", async () => {
    const dir = built("network", "network", "hvt", ["--net=socket"])
    const ping = { output: "" }
    const lines = await bootOnTap(dir, "10.0.0.3", ["--ipv4=10.0.0.3/24", "--ipv4-gateway=10.0.0.1"], pingAndSend("10.0.0.3", ping))
    expect(ping.output).toContain("3 packets transmitted, 3 received")
    expect(lines).toContain(`INF [application] read: 15 "hello tcp world"`)
  }, 300_000)
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

  it("network --net direct builds an image with the netfront driver and the addon, and a vif Xen's parser reads", () => {
    const dir = built("network", "network", "xen", ["--net=direct"])
    const members = new Map(readCpio(path.join(dir, "network.xen")).map((m) => [m.path, m]))
    for (const file of ["lib/modules/xen_netfront.ko", "app/build/tap.node", "app/network.mjs"]) expect(members.has(file), file).toBe(true)
    const init = new TextDecoder().decode(members.get("init")!.data)
    expect(init).toContain("load xen_netfront\nbusybox ip link set lo up\n")
    expect(init).toContain("busybox ip link set eth0 up\n")
    const unavailable = xlCheckUnavailable()
    if (unavailable !== undefined) return
    const parsed = xlCheck(path.join(dir, "network.xl"))
    expect(parsed.ok).toBe(true)
    expect(parsed.output.split("\n").filter((line) => line.startsWith("vif="))).toEqual([`vif=mac=${guestMac("network/0")}, bridge=xenbr0`])
  }, 180_000)
})
