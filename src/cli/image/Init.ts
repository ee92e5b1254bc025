/**
 * The image's `/init`, a busybox shell script: mount proc, sys and devtmpfs,
 * load the drivers, bring the NICs up, run the bundled unikernel on Node with
 * the arguments that follow `--` on the kernel command line (the runtime
 * keys), write its exit status on the console, then sync and power off.
 */
import type { NicUse } from "../../core/Device.ts"
import { disksListFile } from "../../layers/guest/BlockSpec.ts"
import { guestBusybox, nicName } from "../../layers/guest/NicSpec.ts"
import { exitStatusPrefix } from "./ExitStatus.ts"

/** Where things are inside the image. */
export const guestPaths = {
  busybox: guestBusybox,
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
  /** How each NIC (`eth0`, `eth1`…) is used. */
  readonly nics: ReadonlyArray<NicUse>
}

/**
 * The lines bringing the NICs (and loopback) up. A NIC whose frames the
 * unikernel takes raw gets no address and no IPv6, so the guest kernel stays
 * off its wire; a `kernel` NIC is addressed by the socket stack from the keys.
 */
const nicLines = (nics: ReadonlyArray<NicUse>): Array<string> =>
  nics.length === 0 ? [] : [
    "busybox ip link set lo up",
    ...nics.flatMap((use, index) => [
      ...(use === "packet" ? [`echo 1 > /proc/sys/net/ipv6/conf/${nicName(index)}/disable_ipv6`] : []),
      `busybox ip link set ${nicName(index)} up`,
    ]),
  ]

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
    ...nicLines(spec.nics),
    `${guestPaths.node} ${guestPaths.app}/${spec.bundle} "$@"`,
    `echo "${exitStatusPrefix}$?"`,
    "busybox sync",
    "busybox poweroff -f",
    "",
  ].join("\n")
