/**
 * The VM image of a unikernel (`<name>.hvt`, `<name>.xen`): an uncompressed
 * newc initramfs holding busybox, the stripped Node binary and its libraries,
 * the target's driver modules, the bundled unikernel, the list of its disks,
 * the netif addon when a device takes raw frames from the NIC, and a
 * generated `/init`. The kernel goes beside it in `_build/vmlinuz`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { NicUse } from "../../core/Device.ts"
import type { Manifest } from "../Manifest.ts"
import { bundleFile, targetOutputs } from "../Paths.ts"
import { toolRoot } from "../SelfPackage.ts"
import { type CpioEntry, writeCpio } from "./Cpio.ts"
import { guestPaths, initScript } from "./Init.ts"
import { resolveModules } from "./Modules.ts"
import { hostNode, sharedLibraries, strippedNode, type GuestFile } from "./NodeRuntime.ts"
import { busybox, isCached, kernel, kernelPackage } from "./Packages.ts"

/** The targets that boot a VM image. */
export type VmTarget = "hvt" | "xen"

/**
 * The driver modules a target's disks need (hvt: both virtio transports, as
 * the launcher may fall back from microvm to q35). A unikernel without disks
 * loads none: the console and clocks are built into the kernel.
 */
const blockDrivers: Record<VmTarget, ReadonlyArray<string>> = {
  hvt: ["virtio_mmio", "virtio_pci", "virtio_blk"],
  xen: ["xen_blkfront"],
}

/** The driver modules a target's NIC needs (hvt: both virtio transports; `virtio_net` brings `net_failover`). */
const nicDrivers: Record<VmTarget, ReadonlyArray<string>> = {
  hvt: ["virtio_mmio", "virtio_pci", "virtio_net"],
  xen: ["xen_netfront"],
}

/** The netif addon on the build machine, and where the image holds it: the bundle in `/app` finds `/app/build/tap.node`. */
const addon = { host: path.join(toolRoot, "build", "tap.node"), guest: "/app/build/tap.node" } as const

/** A NIC a VM attaches: the manifest device that takes it and how the device uses it. */
export interface VmNic {
  readonly name: string
  readonly use: NicUse
}

/** The devices of a manifest that take a NIC, in manifest order (the order NICs are attached in). */
export const manifestNics = (manifest: Manifest): Array<VmNic> =>
  manifest.devices.flatMap((device) => device.nic ? [{ name: device.name, use: device.nic }] : [])

/** The block devices of a manifest, in manifest order (the order disks are attached in). */
export const manifestDisks = (manifest: Manifest): Array<VmDisk> =>
  manifest.devices.flatMap((device) =>
    device.disk ? [{ name: device.name, file: device.disk.file, ...(device.disk.readOnly ? { readOnly: true } : {}) }] : []
  )

/** A disk a VM attaches: the manifest device it backs, its host file (relative) and whether it is read-only. */
export interface VmDisk {
  readonly name: string
  readonly file: string
  readonly readOnly?: boolean
}

/**
 * What a VM build writes outside `_build`, relative to the unikernel's
 * directory: the image, and the launcher (hvt) or the Xen configuration
 * that boots it. `clean` must remove them.
 */
export const vmOutputs = (name: string, target: VmTarget): { readonly image: string; readonly boot: string } => {
  const outputs = targetOutputs(name, target)
  return { image: outputs.main, boot: outputs.boot ?? outputs.main }
}

/** The image file of a unikernel: `DIR/<name>.<target>`. */
export const imageFile = (dir: string, name: string, target: VmTarget): string => path.join(dir, vmOutputs(name, target).image)

/** The kernel the image boots, copied beside the bundle. */
export const kernelFile = (dir: string): string => path.join(dir, "_build", "vmlinuz")

/** The folders the kernel and the init mount file systems on. */
const mountPoints = ["/proc", "/sys", "/dev", "/tmp"]

/** Parents first: the given folders and every folder the files need, once, shallowest first. */
const folders = (files: ReadonlyArray<string>, extra: ReadonlyArray<string>): Array<string> => {
  const all = new Set<string>(extra)
  for (const file of files) {
    for (let parent = path.posix.dirname(file); parent !== "/"; parent = path.posix.dirname(parent)) all.add(parent)
  }
  return [...all].sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
}

const relative = (guest: string): string => guest.replace(/^\/+/, "")

/**
 * Make the image and the kernel beside it. Each stage reports a line through `progress`; the kernel, busybox and the
 * stripped node come from the cache after the first build.
 */
export const makeImage = (dir: string, manifest: Manifest, target: VmTarget, progress: (line: string) => void): void => {
  const disks = manifestDisks(manifest)
  const nics = manifestNics(manifest)
  if (nics.length > 1) {
    throw new Error(`${nics.map((n) => n.name).join(", ")} each take a NIC, but a VM unikernel has one NIC for now: keep one network device in config.ts`)
  }
  const withAddon = nics.some((nic) => nic.use === "packet")
  if (withAddon && !fs.existsSync(addon.host)) {
    throw new Error(`${addon.host} is missing, and the AF_PACKET network interface needs it in the image: run \`npm run build:addon\` (needs cc)`)
  }
  const bundle = bundleFile(dir, manifest.name)
  progress(`kernel ${kernelPackage.name} ${kernelPackage.version}${isCached(kernelPackage) ? "" : " (fetching with apt-get download)"}`)
  const guestKernel = kernel()
  const drivers = [...(disks.length > 0 ? blockDrivers[target] : []), ...(nics.length > 0 ? nicDrivers[target] : [])]
  const modules = resolveModules(guestKernel.modulesDir, drivers)
  progress(`modules ${modules.map((m) => m.name).join(" ") || "(none)"}`)
  const node = strippedNode(hostNode(), progress)
  const libraries = sharedLibraries(hostNode())
  progress(`node ${process.version} and ${libraries.length} libraries`)
  const bundleName = path.basename(bundle)
  const files: Array<GuestFile & { readonly mode: number }> = [
    { guest: guestPaths.busybox, host: busybox(), mode: 0o755 },
    { guest: guestPaths.node, host: node, mode: 0o755 },
    ...libraries.map((library) => ({ ...library, mode: 0o755 })),
    ...modules.map((m) => ({ guest: `${guestPaths.modules}/${m.name}.ko`, host: m.file, mode: 0o644 })),
    { guest: `${guestPaths.app}/${bundleName}`, host: bundle, mode: 0o644 },
    ...(withAddon ? [{ guest: addon.guest, host: addon.host, mode: 0o755 }] : []),
  ]
  const init = initScript({ name: manifest.name, target, modules: modules.map((m) => m.name), bundle: bundleName, nics: nics.map((n) => n.use) })
  const generated = [
    { guest: "/init", data: init, mode: 0o755 },
    { guest: guestPaths.disks, data: disks.map((d) => d.name + "\n").join(""), mode: 0o644 },
  ]
  const entries: Array<CpioEntry> = [
    ...folders([...files.map((f) => f.guest), ...generated.map((g) => g.guest)], mountPoints)
      .map((folder): CpioEntry => ({ kind: "directory", path: relative(folder) })),
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    ...files.map((f): CpioEntry => ({ kind: "file", path: relative(f.guest), source: f.host, mode: f.mode })),
    ...generated.map((g): CpioEntry => ({ kind: "data", path: relative(g.guest), data: new TextEncoder().encode(g.data), mode: g.mode })),
  ]
  const image = imageFile(dir, manifest.name, target)
  progress(`writing ${path.relative(process.cwd(), image)}`)
  const size = writeCpio(image, entries)
  fs.copyFileSync(guestKernel.image, kernelFile(dir))
  progress(`image ${(size / 1e6).toFixed(1)} MB, kernel ${(fs.statSync(kernelFile(dir)).size / 1e6).toFixed(1)} MB`)
}
