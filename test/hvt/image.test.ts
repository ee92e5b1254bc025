/**
 * The pieces of the VM targets that need no VM: the cpio writer, module
 * ordering, the init's NIC set-up, the launcher's command line and console
 * filter, NIC MACs, and the QEMU command line.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { writeCpio } from "../../src/cli/image/Cpio.ts"
import { guestMac } from "../../src/cli/image/GuestMac.ts"
import { initScript } from "../../src/cli/image/Init.ts"
import { consoleFilter, keysCmdline, LaunchUsage, parseLaunchArgs, type LauncherSpec } from "../../src/cli/image/Launcher.ts"
import { resolveModules } from "../../src/cli/image/Modules.ts"
import { parseLdd } from "../../src/cli/image/NodeRuntime.ts"
import { kernel } from "../../src/cli/image/Packages.ts"
import { hostTscKhz, qemuArguments } from "../../src/cli/image/QemuCommand.ts"
import { diskPath } from "../../src/layers/guest/Block.ts"
import { diskLetters } from "../../src/layers/guest/BlockSpec.ts"
import { root } from "../cli/cli.ts"
import { readCpio } from "./cpio.ts"

const scratch = path.join(root, "test/hvt/.tmp", `image-${process.pid}`)
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

describe("cpio", () => {
  it("writes newc members that read back with their modes, data, links and devices", () => {
    fs.mkdirSync(scratch, { recursive: true })
    const source = path.join(scratch, "source")
    fs.writeFileSync(source, "abcde")
    const archive = path.join(scratch, "test.cpio")
    const size = writeCpio(archive, [
      { kind: "directory", path: "bin" },
      { kind: "file", path: "bin/tool", source, mode: 0o755 },
      { kind: "data", path: "init", data: new TextEncoder().encode("#!/bin/sh\n"), mode: 0o755 },
      { kind: "symlink", path: "sh", target: "bin/tool" },
      { kind: "chardev", path: "console", major: 5, minor: 1 },
    ])
    expect(size).toBe(fs.statSync(archive).size)
    expect(size % 4).toBe(0)
    const members = readCpio(archive)
    expect(members.map((m) => [m.path, m.mode.toString(8), Buffer.from(m.data).toString()])).toEqual([
      ["bin", "40755", ""],
      ["bin/tool", "100755", "abcde"],
      ["init", "100755", "#!/bin/sh\n"],
      ["sh", "120777", "bin/tool"],
      ["console", "20600", ""],
    ])
  })
})

describe("block devices of VM targets", () => {
  it("name disks by position", () => {
    expect([0, 1, 25, 26, 27].map(diskLetters)).toEqual(["a", "b", "z", "aa", "ab"])
    expect(diskPath(["block", "kv_ro-block"], "kv_ro-block", "/dev/vd")).toBe("/dev/vdb")
    expect(diskPath(["block"], "other", "/dev/xvd")).toBeUndefined()
  })
})

describe("the launcher", () => {
  const spec: LauncherSpec = { name: "block_test", kernel: "_build/vmlinuz", disks: [{ name: "block", file: "disk.img" }], nics: [], memoryMiB: 512 }
  const network: LauncherSpec = { name: "network", kernel: "_build/vmlinuz", disks: [], nics: [{ name: "net", use: "packet" }], memoryMiB: 512 }

  it("reads its options, then the image, then the unikernel's keys", () => {
    expect(parseLaunchArgs(spec, ["--disk=d.img", "--mem=256", "--accel=tcg", "x.hvt", "--disk=keep", "-l", "*:debug"])).toEqual({
      disks: ["d.img"], taps: [], memoryMiB: 256, accelerator: "tcg", image: "x.hvt", keys: ["--disk=keep", "-l", "*:debug"],
    })
    for (const bad of [["--disk=a", "--disk=b", "x.hvt"], ["--mem=12", "x.hvt"], ["--accel=hax", "x.hvt"], ["--net"], ["--net=tap0", "x.hvt"], []]) {
      expect(parseLaunchArgs(spec, bad)).toBeInstanceOf(LaunchUsage)
    }
  })

  it("takes a --net TAP for each network device and names the flag when one is missing", () => {
    expect(parseLaunchArgs(network, ["--net=tap0", "network.hvt", "--ipv4=10.0.0.3/24"])).toEqual({
      disks: [], taps: ["tap0"], image: "network.hvt", keys: ["--ipv4=10.0.0.3/24"],
    })
    const missing = parseLaunchArgs(network, ["network.hvt"])
    expect(missing).toBeInstanceOf(LaunchUsage)
    expect((missing as LaunchUsage).message).toMatch(/network has 1 network device\(s\) \(net\): give --net=TAP for each/)
    expect(parseLaunchArgs(network, ["--net=tap0", "--net=tap1", "network.hvt"])).toBeInstanceOf(LaunchUsage)
  })

  it("gives each NIC a stable, locally administered unicast MAC", () => {
    const mac = guestMac("network/tap0")
    expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/)
    expect(Number.parseInt(mac.slice(0, 2), 16) & 0x03).toBe(0x02)
    expect(guestMac("network/tap0")).toBe(mac)
    expect(guestMac("network/tap1")).not.toBe(mac)
  })

  it("quotes keys with spaces for the kernel command line and refuses double quotes", () => {
    expect(keysCmdline("hello", ["--hello=Hi there", "--n=1"])).toBe("\"--hello=Hi there\" --n=1")
    expect(keysCmdline("hello", ["--hello=\"x\""])).toBeInstanceOf(LaunchUsage)
  })

  it("passes console lines through without carriage returns and takes out the exit status", () => {
    const lines: Array<string> = []
    const filter = consoleFilter((line) => lines.push(line))
    filter.push("one\r\ntw")
    filter.push("o\r\neffect-uk-exit-status:3\r\n")
    filter.push("partial")
    expect(filter.end()).toBe(3)
    expect(lines).toEqual(["one\n", "two\n", "partial\n"])
  })

  it("boots a microVM with virtio-mmio disks and NICs, or a q35 PC with virtio-pci", () => {
    const boot = {
      accelerator: "tcg", memoryMiB: 512, kernel: "k", initrd: "i", cmdline: "c",
      disks: [{ file: "a,b.img", readOnly: true }], nics: [{ tap: "tap0", mac: "02:00:00:00:00:01" }],
    } as const
    const microvm = qemuArguments({ ...boot, machine: "microvm" }).join(" ")
    expect(microvm).toContain("-M microvm,rtc=on -accel tcg -cpu qemu64,+rdrand -m 512")
    expect(microvm).toContain("-drive id=disk0,if=none,format=raw,file=a,,b.img,readonly=on -device virtio-blk-device,drive=disk0")
    expect(microvm).toContain(
      "-netdev tap,id=net0,ifname=tap0,script=no,downscript=no,vnet_hdr=on -device virtio-net-device,netdev=net0,mac=02:00:00:00:00:01",
    )
    const q35 = qemuArguments({ ...boot, machine: "q35" }).join(" ")
    expect(q35).toContain("-device virtio-blk-pci,drive=disk0")
    expect(q35).toContain("-device virtio-net-pci,netdev=net0,mac=02:00:00:00:00:01,romfile=")
    expect(hostTscKhz("flags\t: fpu constant_tsc\ncpu MHz\t\t: 2793.450\n")).toBe(2793450)
    expect(hostTscKhz("cpu MHz\t\t: 2793.450\n")).toBeUndefined()
  })
})

describe("the image's contents", () => {
  it("lists node's libraries from ldd, the loader included", () => {
    expect(parseLdd("\tlinux-vdso.so.1 (0x00007f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n"))
      .toEqual(["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"])
  })

  it("orders kernel modules after the modules they depend on", (ctx) => {
    let modulesDir: string
    try {
      modulesDir = kernel().modulesDir
    } catch (error) {
      console.warn(`test/hvt: skipping module order: ${(error as Error).message}`)
      return ctx.skip()
    }
    const names = resolveModules(modulesDir, ["virtio_blk", "virtio_mmio"]).map((m) => m.name)
    expect(names).toEqual(["virtio_ring", "virtio", "virtio_blk", "virtio_mmio"])
    expect(() => resolveModules(modulesDir, ["no_such_driver"])).toThrow(/has no module no_such_driver/)
    expect(resolveModules(modulesDir, ["virtio_net"]).map((m) => m.name)).toEqual(["virtio_ring", "virtio", "failover", "net_failover", "virtio_net"])
  })

  it("brings the NICs up in /init: a raw-frame NIC without IPv6, after the drivers and before node", () => {
    const init = initScript({ name: "network", target: "hvt", modules: ["virtio_net"], bundle: "network.mjs", nics: ["packet"] })
    expect(init).toContain([
      "load virtio_net",
      "busybox ip link set lo up",
      "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6",
      "busybox ip link set eth0 up",
      "/bin/node /app/network.mjs \"$@\"",
    ].join("\n"))
    const kernelNic = initScript({ name: "network", target: "hvt", modules: [], bundle: "network.mjs", nics: ["kernel"] })
    expect(kernelNic).toContain("busybox ip link set eth0 up")
    expect(kernelNic).not.toContain("disable_ipv6")
    expect(initScript({ name: "hello", target: "hvt", modules: [], bundle: "hello.mjs", nics: [] })).not.toContain(" ip ")
  })
})

describe("the manifest of a VM target", () => {
  it("records each block device's disk for the image build and the launcher", async () => {
    const { cli } = await import("../cli/cli.ts")
    const manifest = JSON.parse(cli("query", "manifest", "-t", "hvt", "examples/kv_ro", "--kv_ro=fat").stdout)
    const { manifestDisks } = await import("../../src/cli/image/Image.ts")
    expect(manifestDisks(manifest)).toEqual([{ name: "kv_ro-block", file: "_build/kv_ro-t.img", readOnly: true }])
    expect(manifest.files).toEqual(["_build", "kv_ro.hvt", "kv_ro-hvt", "_build/kv_ro-t.img"])
  })

  it("records which device takes the NIC: the netif for --net direct, the stack for --net socket", async () => {
    const { cli } = await import("../cli/cli.ts")
    const { manifestNics } = await import("../../src/cli/image/Image.ts")
    const nics = (net: string) => manifestNics(JSON.parse(cli("query", "manifest", "-t", "hvt", "examples/network", `--net=${net}`).stdout))
    expect(nics("direct")).toEqual([{ name: "net", use: "packet" }])
    expect(nics("socket")).toEqual([{ name: "stack", use: "kernel" }])
  })
})
