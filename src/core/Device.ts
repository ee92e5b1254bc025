/**
 * Devices in a unikernel's configuration: what the program needs (a service)
 * and how a target provides it (a layer expression in the generated entry
 * point). This is the TypeScript form of MirageOS's `time`, `default_time`,
 * `block_of_file "disk.img"`: a `Device<Time>` declares that the `Time`
 * service is provided, and its `implement` picks the layer for the target and
 * the configure keys.
 */
import type { AnyKey } from "./Key.ts"
import type { Target } from "./Target.ts"
import type { Step } from "./Unikernel.ts"

/** A module the generated entry point imports as a namespace: `import * as <as> from "<from>"`. */
export interface Import {
  readonly from: string
  readonly as: string
}

/** How a device is provided on one target: the layer code that the entry point will contain. */
export interface Implementation {
  /** One line for the manifest and `describe` (`unix console on stdout`). */
  readonly description: string
  /** Modules the layer expression uses. */
  readonly imports: ReadonlyArray<Import>
  /** A TypeScript expression of type `Layer<Service, E, Deps>` using the imports. */
  readonly layer: string
  /** Devices whose services this layer needs (its dependencies in the device graph). */
  readonly dependsOn?: ReadonlyArray<AnyDevice>
  /** Runtime keys this layer reads (they join the unikernel's command line). */
  readonly keys?: ReadonlyArray<AnyKey>
  /** npm packages the layer needs at run time, installed by `effect-uk depend`. */
  readonly packages?: ReadonlyArray<string>
  /** Steps `build` runs before bundling (generating a crunch module, making an image). */
  readonly steps?: ReadonlyArray<Step>
  /** On a VM target: the host file attached as a disk for this device (the launcher's default `--disk`). */
  readonly disk?: DiskAttachment
  /** On a VM target: this device takes a guest NIC (the launcher's `--net=TAP`), used as `NicUse` says. */
  readonly nic?: NicUse
}

/**
 * How a device uses its guest NIC: `packet` takes raw frames through an
 * AF_PACKET socket (the image carries the netif addon; the guest kernel gets
 * no address), `kernel` uses the guest kernel's own stack (addressed from the keys).
 */
export type NicUse = "packet" | "kernel"

/** A disk a VM target attaches for a device, recorded in the manifest for the image build and the launcher. */
export interface DiskAttachment {
  /** The image file, relative to the unikernel's directory. */
  readonly file: string
  readonly readOnly?: boolean
}

/** The code of a path relative to the unikernel's directory, resolved when the unikernel runs. */
export const unikernelFileCode = (relative: string): { readonly imports: ReadonlyArray<Import>; readonly code: string } => ({
  imports: [{ from: "effect-uk/runtime", as: "Runtime" }],
  code: `Runtime.unikernelFile(import.meta.url, ${JSON.stringify(relative)})`,
})

/** What a device's implementation may depend on at configure time. */
export interface ImplementContext {
  readonly target: Target
  /** The values of configure-time keys, by name. */
  readonly keys: ReadonlyMap<string, unknown>
  /** The unikernel's directory (absolute). */
  readonly dir: string
  /** The code naming `value` as an export of the main module (`Unikernel.Disk2`), if it is one. */
  readonly mainExport: (value: unknown) => string | undefined
}

/** A device providing the service `S`. */
export interface Device<S> {
  /** Phantom: the service this device provides. */
  readonly "~service"?: S
  /** The device's name in the manifest and the graph (`time`, `block`, `kv_ro`). */
  readonly name: string
  /** The service's name (`Time`, `Block`). */
  readonly service: string
  /** Configure-time keys that choose or parameterise the implementation (`--kv_ro`). */
  readonly keys: ReadonlyArray<AnyKey>
  /** Choose the implementation for a target; a string is an error message (not available…). */
  readonly implement: (context: ImplementContext) => Implementation | string
}

/** A device of any service. */
export type AnyDevice = Device<any>

/** The service a device provides. */
export type ServiceOf<D> = D extends Device<infer S> ? S : never

/** Declare a device. */
export const make = <S>(device: {
  readonly name: string
  readonly service: string
  readonly keys?: ReadonlyArray<AnyKey>
  readonly implement: (context: ImplementContext) => Implementation | string
}): Device<S> => ({ ...device, keys: device.keys ?? [] })
