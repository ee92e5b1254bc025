/**
 * Computing a configuration: the target, the key values from the configure
 * command line, the implementation of every device (and of the devices they
 * depend on), the packages and the files. Pure apart from the loaded config;
 * `configure`, `describe`, `query` and `help` all start here.
 */
import { Effect } from "effect"
import * as Args from "../core/Args.ts"
import type { AnyDevice, Implementation } from "../core/Device.ts"
import * as Key from "../core/Key.ts"
import { logsKey } from "../core/Log.ts"
import type { Target } from "../core/Target.ts"
import { BadArguments, DeviceUnavailable } from "./CliError.ts"
import type { Step } from "../core/Unikernel.ts"
import type { LoadedConfig } from "./LoadConfig.ts"
import { targetOutputs } from "./Paths.ts"
import type { Manifest } from "./Manifest.ts"

/** A device with the implementation chosen for it. */
export interface ResolvedDevice {
  readonly device: AnyDevice
  readonly implementation: Implementation
  /** True when `config.ts` lists it; false when it is only a dependency. */
  readonly registered: boolean
}

/** Keys with no duplicates (the first declaration of a name wins). */
const uniqueKeys = (keys: ReadonlyArray<Key.AnyKey>): Array<Key.AnyKey> => {
  const byName = new Map<string, Key.AnyKey>()
  for (const key of keys) if (!byName.has(key.name)) byName.set(key.name, key)
  return [...byName.values()]
}

/** The keys that choose implementations, before any device is implemented. */
export const configureKeys = (loaded: LoadedConfig): Array<Key.AnyKey> =>
  uniqueKeys([...loaded.config.keys, ...loaded.config.devices.flatMap((d) => d.keys), logsKey])

const argsFailure = (error: Args.ArgsError) =>
  new BadArguments({ message: error._tag === "HelpRequested" ? "--help is not a key" : error.message })

/** Parse configure arguments against some keys; runtime-only keys are refused; the rest is returned. */
const parseStage = (argv: ReadonlyArray<string>, keys: ReadonlyArray<Key.AnyKey>, allowRest: boolean) => {
  const result = Args.parse(argv, {
    keys: keys.filter(Key.isConfigure),
    refused: keys.filter((k) => !Key.isConfigure(k)),
    refusedBelongTo: "runtime",
    allowRest,
  })
  return Args.isError(result) ? Effect.fail(argsFailure(result)) : Effect.succeed(result)
}

/** Implement every registered device and, depth first, the devices they depend on. */
const resolveDevices = (
  loaded: LoadedConfig,
  target: Target,
  values: ReadonlyMap<string, unknown>,
): Effect.Effect<Array<ResolvedDevice>, DeviceUnavailable> => {
  const resolved = new Map<string, ResolvedDevice>()
  const exports = loaded.config.main.exports
  const mainExport = (value: unknown) => {
    const name = Object.keys(exports).find((n) => exports[n] === value)
    return name === undefined ? undefined : `Unikernel.${name}`
  }
  const visit = (device: AnyDevice, registered: boolean): DeviceUnavailable | undefined => {
    const known = resolved.get(device.name)
    if (known) {
      return known.device === device
        ? undefined
        : new DeviceUnavailable({ device: device.name, reason: "two different devices have this name" })
    }
    const implementation = device.implement({ target, keys: values, dir: loaded.dir, mainExport })
    if (typeof implementation === "string") return new DeviceUnavailable({ device: device.name, reason: implementation })
    for (const dependency of implementation.dependsOn ?? []) {
      const failure = visit(dependency, false)
      if (failure) return failure
    }
    resolved.set(device.name, { device, implementation, registered })
    return undefined
  }
  for (const device of loaded.config.devices) {
    const failure = visit(device, true)
    if (failure) return Effect.fail(failure)
  }
  return Effect.succeed([...resolved.values()])
}

/** A computed configuration: the manifest to write, and every build step (devices' first, then config.ts's). */
export interface Configuration {
  readonly manifest: Manifest
  readonly steps: ReadonlyArray<Step>
}

/** Compute the configuration for `target` from the configure command line. */
export const computeConfiguration = (
  loaded: LoadedConfig,
  target: Target,
  argv: ReadonlyArray<string>,
): Effect.Effect<Configuration, DeviceUnavailable | BadArguments> =>
  Effect.gen(function* () {
    const firstKeys = configureKeys(loaded)
    const first = yield* parseStage(argv, firstKeys, true)
    const devices = yield* resolveDevices(loaded, target, first.values)
    const implementationKeys = uniqueKeys(devices.flatMap((d) => d.implementation.keys ?? []))
      .filter((k) => !firstKeys.some((f) => f.name === k.name))
    const second = yield* parseStage(first.rest, [...implementationKeys, ...firstKeys], false)
    const values = new Map([...first.values, ...second.values])
    const keys = [...firstKeys, ...implementationKeys]
    const { config } = loaded
    const steps = [...devices.flatMap((d) => d.implementation.steps ?? []), ...config.steps]
    const manifest: Manifest = {
      name: config.name,
      target,
      arguments: argv,
      main: { module: config.main.module, export: config.main.export, hasStart: config.main.hasStart },
      devices: devices.map(({ device, implementation, registered }) => ({
        name: device.name,
        service: device.service,
        implementation: implementation.description,
        imports: implementation.imports,
        layer: implementation.layer,
        dependsOn: (implementation.dependsOn ?? []).map((d) => d.name),
        registered,
        ...(implementation.disk ? { disk: implementation.disk } : {}),
        ...(implementation.nic ? { nic: implementation.nic } : {}),
      })),
      keys: keys.map((key) => ({
        name: key.name,
        stage: key.stage,
        doc: key.doc,
        type: key.type.code,
        metavar: key.type.metavar,
        ...(key.type.choices ? { choices: key.type.choices } : {}),
        aliases: key.aliases,
        section: key.section,
        default: key.type.format(key.default),
        value: key.type.format(values.has(key.name) ? values.get(key.name) : key.default),
      })),
      packages: [...new Set([...config.packages, ...devices.flatMap((d) => d.implementation.packages ?? [])])],
      files: ["_build", ...Object.values(targetOutputs(config.name, target)), ...steps.flatMap((s) => s.files)],
      steps: steps.map((s) => ({ description: s.description, files: s.files })),
    }
    return { manifest, steps }
  })
