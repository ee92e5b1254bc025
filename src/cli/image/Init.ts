/**
 * The image's `/init`, a busybox shell script: mount proc, sys and devtmpfs,
 * load the drivers, run the bundled unikernel on Node with the arguments
 * that follow `--` on the kernel command line (the runtime keys), write its
 * exit status on the console, then sync and power off.
 */
import { disksListFile } from "../../layers/guest/BlockSpec.ts"
import { exitStatusPrefix } from "./ExitStatus.ts"

/** Where things are inside the image. */
export const guestPaths = {
  busybox: "/bin/busybox",
  node: "/bin/node",
  modules: "/lib/modules",
  app: "/app",
  disks: disksListFile,
} as const

/** What the init needs to know. */
export interface InitSpec {
  readonly name: string
  readonly target: string
  /** Module names in load order (`virtio_ring`, `virtio`, `virtio_mmio`…), each at `/lib/modules/<name>.ko`. */
  readonly modules: ReadonlyArray<string>
  /** The bundle's file name in `/app`. */
  readonly bundle: string
}

/** The text of `/init`. */
export const initScript = (spec: InitSpec): string =>
  [
    `#!${guestPaths.busybox} sh`,
    `# /init of the unikernel "${spec.name}" (target ${spec.target}), made by \`effect-uk build\`.`,
    "export PATH=/bin",
    "busybox mount -t proc proc /proc",
    "busybox mount -t sysfs sysfs /sys",
    "busybox mount -t devtmpfs devtmpfs /dev",
    "# Load a module with the options the kernel command line gives it as <module>.<option>=<value>, as modprobe does.",
    "load() {",
    "  options=",
    "  for word in $(busybox cat /proc/cmdline); do",
    "    case \"$word\" in \"$1\".*) options=\"$options ${word#\"$1\".}\" ;; esac",
    "  done",
    `  busybox insmod "${guestPaths.modules}/$1.ko" $options`,
    "}",
    ...spec.modules.map((name) => `load ${name}`),
    `${guestPaths.node} ${guestPaths.app}/${spec.bundle} "$@"`,
    `echo "${exitStatusPrefix}$?"`,
    "busybox sync",
    "busybox poweroff -f",
    "",
  ].join("\n")
