/**
 * The Xen guest configuration `DIR/<name>.xl` (MirageOS's `<name>.xl`), for
 * `xl create -c <name>.xl`: a PVH guest booting the kernel with the image as
 * its ramdisk, the console on `hvc0`, the runtime keys after `--` and one
 * `disk` line per block device, in manifest order (`xvda`, `xvdb`…), and one
 * `vif` per NIC on the bridge `xenbr0` (edit it to the host's bridge), with
 * a MAC derived from the unikernel's name.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { diskLetters } from "../../layers/guest/BlockSpec.ts"
import type { Manifest } from "../Manifest.ts"
import { guestMac } from "./GuestMac.ts"
import { imageFile, kernelFile, manifestDisks, manifestNics, vmOutputs } from "./Image.ts"

/** The host bridge the NICs join unless the `.xl` is edited. */
const bridge = "xenbr0"

/** Guest memory in MiB: the unpacked image and Node's heap. */
const memoryMiB = 512

const quoted = (text: string): string => JSON.stringify(text)

/** The text of the `.xl` file; paths are absolute, as `xl create` resolves relative ones from its working directory. */
export const xlConfig = (dir: string, manifest: Manifest): string => {
  const absolute = path.resolve(dir)
  const disks = manifestDisks(manifest).map((disk, index) =>
    quoted(`format=raw, vdev=xvd${diskLetters(index)}, access=${disk.readOnly ? "ro" : "rw"}, target=${path.join(absolute, disk.file)}`))
  const vifs = manifestNics(manifest).map((_, index) => quoted(`mac=${guestMac(`${manifest.name}/${index}`)}, bridge=${bridge}`))
  return [
    `# Xen configuration of the unikernel "${manifest.name}", made by \`effect-uk build\`: xl create -c ${manifest.name}.xl`,
    `name = ${quoted(manifest.name)}`,
    `type = "pvh"`,
    `kernel = ${quoted(kernelFile(absolute))}`,
    `ramdisk = ${quoted(imageFile(absolute, manifest.name, "xen"))}`,
    `# Runtime keys go after -- (cmdline = "… -- --hello=Hola!").`,
    `cmdline = ${quoted("console=hvc0 quiet loglevel=0 panic=-1 --")}`,
    `memory = ${memoryMiB}`,
    `vcpus = 1`,
    `on_poweroff = "destroy"`,
    `on_crash = "destroy"`,
    `disk = [ ${disks.join(", ")} ]`,
    `vif = [ ${vifs.join(", ")} ]`,
    "",
  ].join("\n")
}

/** Write `DIR/<name>.xl`. */
export const writeXlConfig = (dir: string, manifest: Manifest, progress: (line: string) => void): void => {
  const file = path.join(dir, vmOutputs(manifest.name, "xen").boot)
  progress(`writing ${path.relative(process.cwd(), file)}`)
  fs.writeFileSync(file, xlConfig(dir, manifest))
}
