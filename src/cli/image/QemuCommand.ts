/**
 * The QEMU command line of an hvt boot: a microVM (`-M microvm`, virtio-mmio
 * devices) or, where QEMU has no microvm machine, a q35 PC with virtio-pci;
 * no display, the serial line on standard output, no reboot (the guest's
 * power-off or panic ends QEMU).
 */

/** How guests are run: hardware virtualisation or QEMU's emulator. */
export type Accelerator = "kvm" | "tcg"

/** The machine model. */
export type Machine = "microvm" | "q35"

/** A disk to attach: the host file and whether the guest may write it. */
export interface QemuDisk {
  readonly file: string
  readonly readOnly: boolean
}

/**
 * A NIC to attach: the host TAP device (created by QEMU if missing) and the
 * guest's MAC. The TAP carries virtio-net headers, so frames cross with
 * checksum and segmentation offload; the unikernel's own stack reads them
 * through AF_PACKET with those headers (`layerPacket`'s offload).
 */
export interface QemuNic {
  readonly tap: string
  readonly mac: string
}

/** Everything one boot needs. */
export interface QemuBoot {
  readonly machine: Machine
  readonly accelerator: Accelerator
  readonly memoryMiB: number
  readonly kernel: string
  /** The initramfs; absent for the accelerator probe, which boots the kernel alone. */
  readonly initrd?: string
  /** The kernel command line. */
  readonly cmdline: string
  readonly disks: ReadonlyArray<QemuDisk>
  readonly nics: ReadonlyArray<QemuNic>
}

/** The kernel options every boot gets: the console, silence, no reboot after a panic, the TSC rate. */
export const baseCmdline = (tscKhz: number | undefined): string =>
  ["console=ttyS0", "quiet", "loglevel=0", "panic=-1", ...(tscKhz === undefined ? [] : [`tsc_early_khz=${tscKhz}`])].join(" ")

/** The arguments of `qemu-system-x86_64` for a boot. */
export const qemuArguments = (boot: QemuBoot): Array<string> => {
  const bus = boot.machine === "microvm" ? "device" : "pci"
  return [
    "-M", boot.machine === "microvm" ? "microvm,rtc=on" : "q35",
    "-accel", boot.accelerator,
    // Under TCG the baseline CPU boots fastest; RDRAND seeds the guest's CSPRNG at once (Node waits for it).
    "-cpu", boot.accelerator === "kvm" ? "host" : "qemu64,+rdrand",
    "-m", String(boot.memoryMiB),
    "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
    "-kernel", boot.kernel,
    ...(boot.initrd === undefined ? [] : ["-initrd", boot.initrd]),
    "-append", boot.cmdline,
    ...boot.disks.flatMap((disk, index) => [
      "-drive", `id=disk${index},if=none,format=raw,file=${disk.file.replace(/,/g, ",,")}${disk.readOnly ? ",readonly=on" : ""}`,
      "-device", `virtio-blk-${bus},drive=disk${index}`,
    ]),
    ...boot.nics.flatMap((nic, index) => [
      // virtio-net headers on the TAP: the guest NIC gets checksum and segmentation offload both ways
      // (the guest's packet socket of --net direct speaks those headers too).
      "-netdev", `tap,id=net${index},ifname=${nic.tap.replace(/,/g, ",,")},script=no,downscript=no,vnet_hdr=on`,
      // q35's virtio-net-pci would load a boot ROM (ipxe) the kernel boot does not need.
      "-device", `virtio-net-${bus},netdev=net${index},mac=${nic.mac}${bus === "pci" ? ",romfile=" : ""}`,
    ]),
  ]
}

/** The host's TSC rate in kHz (the guest's too, under KVM and TCG alike), from `/proc/cpuinfo`. */
export const hostTscKhz = (cpuinfo: string): number | undefined => {
  if (!/\bconstant_tsc\b/.test(cpuinfo)) return undefined
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1]
  return mhz === undefined ? undefined : Math.round(Number(mhz) * 1000)
}
