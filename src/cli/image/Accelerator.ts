/**
 * Choosing how the launcher runs guests. KVM is used only when a short test
 * boot under it succeeds: a `/dev/kvm` that opens may still be unable to
 * boot a stock kernel (a nested or paravirtual KVM). The test boots the
 * kernel with no initramfs, which panics at once and, with `panic=-1` and
 * `-no-reboot`, ends QEMU; a hang past the timeout means KVM does not work
 * here. The answer, and whether QEMU has the microvm machine, are cached
 * until the host reboots.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { cacheDir } from "./Cache.ts"
import { type Accelerator, baseCmdline, type Machine, qemuArguments } from "./QemuCommand.ts"

/** The QEMU binary the launcher runs. */
export const qemuBinary = "qemu-system-x86_64"

/** What the probe found, and why KVM is not used when it is not. */
export interface HostChoice {
  readonly accelerator: Accelerator
  readonly machine: Machine
  /** Why TCG was chosen; absent when KVM works. */
  readonly tcgReason?: string
}

/** How long a KVM test boot may take before KVM is judged unusable. */
const probeTimeoutMs = 5_000

/** The machine model: microvm when this QEMU has it, q35 otherwise. */
const machineModel = (): Machine => {
  const result = spawnSync(qemuBinary, ["-machine", "help"], { encoding: "utf8" })
  return /^microvm\b/m.test(result.stdout ?? "") ? "microvm" : "q35"
}

/** Whether a kernel boots under KVM here; the reason when it does not. */
const kvmFailure = (kernel: string, machine: Machine, tscKhz: number | undefined): string | undefined => {
  try {
    fs.closeSync(fs.openSync("/dev/kvm", "r+"))
  } catch (error) {
    return `/dev/kvm cannot be opened (${(error as Error).message})`
  }
  const args = qemuArguments({ machine, accelerator: "kvm", memoryMiB: 128, kernel, cmdline: baseCmdline(tscKhz), disks: [], nics: [] })
  const result = spawnSync(qemuBinary, args, { encoding: "utf8", timeout: probeTimeoutMs, stdio: ["ignore", "pipe", "pipe"] })
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
    return `a test boot under KVM did not finish in ${probeTimeoutMs / 1000} s`
  }
  if (!/Kernel panic/.test(result.stdout ?? "")) {
    return `a test boot under KVM failed: ${(result.stderr ?? "").trim().split("\n")[0] ?? `exit status ${result.status}`}`
  }
  return undefined
}

const bootId = (): string => {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
  } catch {
    return "unknown"
  }
}

/**
 * The accelerator and machine for this host: `forced` when given, else from
 * the cache when this host boot already probed with the same kernel, else by
 * probing (and caching).
 */
export const chooseHost = (kernel: string, tscKhz: number | undefined, forced?: Accelerator): HostChoice => {
  if (forced !== undefined) return { accelerator: forced, machine: machineModel() }
  const file = cacheDir("accelerator.json")
  const key = `${bootId()} ${path.basename(kernel)} ${fs.statSync(kernel).size}`
  try {
    const cached = JSON.parse(fs.readFileSync(file, "utf8")) as { readonly key: string; readonly choice: HostChoice }
    if (cached.key === key) return cached.choice
  } catch {
    // no cache yet, or an unreadable one: probe again
  }
  const machine = machineModel()
  const failure = kvmFailure(kernel, machine, tscKhz)
  const choice: HostChoice = failure === undefined ? { accelerator: "kvm", machine } : { accelerator: "tcg", machine, tcgReason: failure }
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify({ key, choice }) + "\n")
  return choice
}
