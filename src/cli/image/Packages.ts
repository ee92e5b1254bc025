/**
 * The pinned Debian packages an image is made from: the cloud kernel (its
 * drivers are modules) and busybox-static (the init's `insmod` and `mount`).
 * They are fetched with `apt-get download` and unpacked with `dpkg-deb -x`
 * into the cache, so the build machine gets no kernel and no systemd.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { cacheDir, cachedFolder } from "./Cache.ts"
import { runTool } from "./Command.ts"

/** A Debian package at one version. */
export interface DebianPackage {
  readonly name: string
  readonly version: string
}

/** The guest kernel: Debian 12's cloud flavour (virtio and Xen front-ends as modules, PVH boot). */
export const kernelPackage: DebianPackage = { name: "linux-image-6.1.0-56-cloud-amd64", version: "6.1.192-2" }

/** The kernel release the package installs (`uname -r` in the guest). */
export const kernelRelease = (pkg: DebianPackage = kernelPackage): string => pkg.name.replace(/^linux-image-/, "")

/** A statically linked busybox: the init's shell, `mount`, `insmod` and `poweroff`. */
export const busyboxPackage: DebianPackage = { name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1" }

const fix = (pkg: DebianPackage) =>
  `Fetching ${pkg.name}=${pkg.version} needs apt-get and dpkg-deb (Debian or Ubuntu) and the Debian mirror: ` +
  `run apt-get update and build again; if the mirror has dropped this version, update the pin in src/cli/image/Packages.ts.`

/** Where `pkg` is unpacked in the cache. */
const packageFolder = (pkg: DebianPackage): string =>
  cacheDir("debian", `${pkg.name}_${pkg.version.replace(/[^A-Za-z0-9.+-]/g, "_")}`)

/** Whether `pkg` is in the cache already (no download needed). */
export const isCached = (pkg: DebianPackage): boolean => fs.existsSync(packageFolder(pkg))

/**
 * The folder `pkg` is unpacked in (its `boot/`, `lib/`, `bin/`…), fetching
 * and unpacking it the first time. Throws `CommandFailed` naming the fix.
 */
export const unpackedPackage = (pkg: DebianPackage): string =>
  cachedFolder(packageFolder(pkg), (scratch) => {
    runTool("apt-get", ["download", "-q", `${pkg.name}=${pkg.version}`], fix(pkg), scratch)
    const deb = fs.readdirSync(scratch).find((file) => file.endsWith(".deb"))
    if (deb === undefined) throw new Error(`apt-get download ${pkg.name}=${pkg.version} saved no .deb file. ${fix(pkg)}`)
    runTool("dpkg-deb", ["-x", path.join(scratch, deb), path.join(scratch, "root")], fix(pkg))
    for (const file of fs.readdirSync(scratch)) if (file !== "root") fs.rmSync(path.join(scratch, file))
    for (const file of fs.readdirSync(path.join(scratch, "root"))) fs.renameSync(path.join(scratch, "root", file), path.join(scratch, file))
    fs.rmdirSync(path.join(scratch, "root"))
  })

/** Where the kernel and its modules are, once the kernel package is unpacked. */
export interface Kernel {
  readonly release: string
  /** The bzImage (also a PVH entry point for Xen). */
  readonly image: string
  /** `lib/modules/<release>`. */
  readonly modulesDir: string
}

/** The pinned kernel, fetched into the cache on first use. */
export const kernel = (pkg: DebianPackage = kernelPackage): Kernel => {
  const root = unpackedPackage(pkg)
  const release = kernelRelease(pkg)
  return {
    release,
    image: path.join(root, "boot", `vmlinuz-${release}`),
    modulesDir: path.join(root, "lib", "modules", release),
  }
}

/** The static busybox binary, fetched into the cache on first use. */
export const busybox = (): string => path.join(unpackedPackage(busyboxPackage), "bin", "busybox")
