/**
 * The hvt launcher (Solo5's `solo5-hvt`, the tutorial's `ukvm-bin`):
 *
 *     ./hello-hvt [--disk=FILE]… [--net=TAP]… [--mem=MIB] [--accel=kvm|tcg] hello.hvt [runtime keys]
 *
 * It boots the image with QEMU, attaching the `--disk` files to the
 * unikernel's block devices in manifest order (a device with no `--disk`
 * gets the file its `config.ts` names) and its NICs to the `--net` TAP
 * devices, in manifest order too (each needs one; QEMU creates a missing TAP,
 * which needs CAP_NET_ADMIN), passes the runtime keys on the kernel
 * command line after `--`, copies the guest's console lines to standard
 * output and exits with the unikernel's exit status.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Data } from "effect"
import type { VmDisk, VmNic } from "./Image.ts"
import { chooseHost, qemuBinary } from "./Accelerator.ts"
import { hasTool } from "./Command.ts"
import { parseExitStatus } from "./ExitStatus.ts"
import { guestMac } from "./GuestMac.ts"
import { type Accelerator, baseCmdline, hostTscKhz, type QemuDisk, type QemuNic, qemuArguments } from "./QemuCommand.ts"

/** What `effect-uk build` bakes into a unikernel's launcher. */
export interface LauncherSpec {
  readonly name: string
  /** The kernel, relative to the unikernel's directory. */
  readonly kernel: string
  /** The block devices, in manifest order. */
  readonly disks: ReadonlyArray<VmDisk>
  /** The devices that take a NIC, in manifest order. */
  readonly nics: ReadonlyArray<VmNic>
  /** Guest memory unless `--mem` says otherwise. */
  readonly memoryMiB: number
}

/** A bad launcher command line. */
export class LaunchUsage extends Data.TaggedError("LaunchUsage")<{ readonly problem: string; readonly name: string }> {
  override get message() {
    return `${this.problem}\nUsage: ${this.name}-hvt [--disk=FILE]… [--net=TAP]… [--mem=MIB] [--accel=kvm|tcg] ${this.name}.hvt [--KEY=VALUE…]`
  }
}

/** The launcher's own options, the image and the unikernel's arguments. */
export interface LaunchRequest {
  readonly disks: ReadonlyArray<string>
  /** The TAP devices of the NICs, one per `spec.nics` entry. */
  readonly taps: ReadonlyArray<string>
  readonly memoryMiB?: number
  readonly accelerator?: Accelerator
  readonly image: string
  readonly keys: ReadonlyArray<string>
}

/** Read the launcher's command line: options, then the image, then the unikernel's arguments. */
export const parseLaunchArgs = (spec: LauncherSpec, argv: ReadonlyArray<string>): LaunchRequest | LaunchUsage => {
  const usage = (problem: string) => new LaunchUsage({ problem, name: spec.name })
  const disks: Array<string> = []
  const taps: Array<string> = []
  let memoryMiB: number | undefined
  let accelerator: Accelerator | undefined
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!
    const [option, value] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
    if (!option.startsWith("-")) {
      if (disks.length > spec.disks.length) {
        return usage(`${disks.length} --disk options, but ${spec.name} has ${spec.disks.length} block device(s): ${spec.disks.map((d) => d.name).join(", ") || "none"}`)
      }
      if (taps.length !== spec.nics.length) {
        return usage(
          `${taps.length} --net options, but ${spec.name} has ${spec.nics.length} network device(s)` +
            (spec.nics.length === 0 ? "" : ` (${spec.nics.map((n) => n.name).join(", ")}): give --net=TAP for each, a TAP device on the host, e.g. --net=tap0`),
        )
      }
      return { disks, taps, ...(memoryMiB === undefined ? {} : { memoryMiB }), ...(accelerator === undefined ? {} : { accelerator }), image: arg, keys: argv.slice(index + 1) }
    }
    if (value === undefined || value === "") return usage(`${option} needs a value: ${option}=VALUE`)
    if (option === "--disk") disks.push(value)
    else if (option === "--net") taps.push(value)
    else if (option === "--mem" && /^\d+$/.test(value) && Number(value) >= 128) memoryMiB = Number(value)
    else if (option === "--accel" && (value === "kvm" || value === "tcg")) accelerator = value
    else return usage(`unknown option or bad value: ${arg} (options: --disk=FILE, --net=TAP, --mem=MIB of at least 128, --accel=kvm|tcg)`)
  }
  return usage(`no image: give ${spec.name}.hvt`)
}

/** The unikernel's arguments as kernel command-line words after `--`; an argument with a `"` cannot be passed. */
export const keysCmdline = (name: string, keys: ReadonlyArray<string>): string | LaunchUsage => {
  const bad = keys.find((key) => key.includes("\"") || /[\n\r]/.test(key))
  if (bad !== undefined) return new LaunchUsage({ problem: `cannot pass ${JSON.stringify(bad)} on a kernel command line: drop the double quote or newline`, name })
  return keys.map((key) => (/\s/.test(key) ? `"${key}"` : key)).join(" ")
}

/** Copy console text to `write` line by line, taking out the exit status line; returns the status when seen. */
export const consoleFilter = (write: (line: string) => void) => {
  let pending = ""
  let status: number | undefined
  const line = (text: string) => {
    const clean = text.replace(/\r+$/, "")
    const code = parseExitStatus(clean)
    if (code === undefined) write(clean + "\n")
    else status = code
  }
  return {
    push: (chunk: string) => {
      const lines = (pending + chunk).split("\n")
      pending = lines.pop() ?? ""
      for (const text of lines) line(text)
    },
    end: (): number | undefined => {
      if (pending !== "") line(pending)
      pending = ""
      return status
    },
  }
}

/** Boot the image and resolve with the launcher's exit code. */
export const launch = (spec: LauncherSpec, dir: string, argv: ReadonlyArray<string>): Promise<number> => {
  const fail = (error: LaunchUsage, code: number) => {
    process.stderr.write(`${spec.name}-hvt: ${error.message}\n`)
    return Promise.resolve(code)
  }
  const request = parseLaunchArgs(spec, argv)
  if (request instanceof LaunchUsage) return fail(request, 64)
  const keys = keysCmdline(spec.name, request.keys)
  if (keys instanceof LaunchUsage) return fail(keys, 64)
  const disks: Array<QemuDisk> = spec.disks.map((disk, index) => ({
    file: path.resolve(request.disks[index] ?? path.join(dir, disk.file)),
    readOnly: disk.readOnly === true,
  }))
  const nics: Array<QemuNic> = request.taps.map((tap) => ({ tap, mac: guestMac(`${spec.name}/${tap}`) }))
  const kernel = path.join(dir, spec.kernel)
  const missing = [request.image, kernel, ...disks.map((d) => d.file)].find((file) => !fs.existsSync(file))
  if (missing !== undefined) return fail(new LaunchUsage({ problem: `${missing} does not exist (effect-uk build makes the image and the kernel)`, name: spec.name }), 64)
  if (!hasTool(qemuBinary)) {
    process.stderr.write(`${spec.name}-hvt: ${qemuBinary} is not installed: install QEMU (Debian: apt-get install qemu-system-x86)\n`)
    return Promise.resolve(69)
  }
  const tscKhz = hostTscKhz(fs.readFileSync("/proc/cpuinfo", "utf8"))
  const host = chooseHost(kernel, tscKhz, request.accelerator)
  if (host.tcgReason !== undefined) {
    process.stderr.write(`${spec.name}-hvt: using TCG (emulation, slower): ${host.tcgReason}\n`)
  }
  const args = qemuArguments({
    machine: host.machine,
    accelerator: host.accelerator,
    memoryMiB: request.memoryMiB ?? spec.memoryMiB,
    kernel,
    initrd: request.image,
    cmdline: `${baseCmdline(tscKhz)} -- ${keys}`.trimEnd(),
    disks,
    nics,
  })
  return new Promise((resolve) => {
    const qemu = spawn(qemuBinary, args, { stdio: ["ignore", "pipe", "inherit"] })
    const output = consoleFilter((line) => process.stdout.write(line))
    qemu.stdout.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk))
    let signalCode: number | undefined
    const stop = (code: number) => () => {
      signalCode = code
      qemu.kill("SIGTERM")
    }
    process.once("SIGINT", stop(130))
    process.once("SIGTERM", stop(143))
    qemu.once("error", (error) => {
      process.stderr.write(`${spec.name}-hvt: cannot run ${qemuBinary}: ${error.message}\n`)
      resolve(69)
    })
    qemu.once("close", (code) => {
      const status = output.end()
      if (signalCode !== undefined) return resolve(signalCode)
      if (status !== undefined) return resolve(status)
      process.stderr.write(`${spec.name}-hvt: the guest stopped without an exit status (QEMU exit status ${code}): a kernel panic or a crash; see the output above\n`)
      resolve(1)
    })
  })
}
