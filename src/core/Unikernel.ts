/**
 * The unikernel DSL used in `config.ts` (functoria's `foreign`, `register`,
 * keys, packages and custom build/clean steps).
 *
 * ```ts
 * import { defaultTime, foreign, register } from "effect-uk/config"
 * import * as Unikernel from "./unikernel.ts"
 *
 * export default register({
 *   name: "hello",
 *   main: foreign(Unikernel, "Hello"),
 *   devices: [defaultTime],
 * })
 * ```
 *
 * `register` checks at the type level that the devices provide every service
 * the program requires: a missing device is a type error naming the service,
 * as MirageOS's `@->`/`$` promise.
 */
import { Effect } from "effect"
import type { AnyDevice, ServiceOf } from "./Device.ts"
import type { AnyKey } from "./Key.ts"

/** What a unikernel's main export may be: a program, or a module with a `start` program (`Unikernel.Main`). */
export type Entry = Effect.Effect<void, any, any> | { readonly start: Effect.Effect<void, any, any> }

/** The services an entry's program requires. */
export type RequirementsOf<X> = X extends Effect.Effect<void, any, infer R> ? R
  : X extends { readonly start: Effect.Effect<void, any, infer R> } ? R
  : never

/** The main program of a unikernel: where it is, and (as a type) what it requires. */
export interface Job<R> {
  /** Phantom: the services the program requires. */
  readonly "~requires"?: (_: R) => void
  /** The module file, relative to the unikernel's directory (`./unikernel.ts`). */
  readonly module: string
  /** The export name (`main`, `Hello`, `Main`). */
  readonly export: string
  /** True when the export is a module-like object whose `start` is the program. */
  readonly hasStart: boolean
  /** The main module's exports, so devices can name the program's own services. */
  readonly exports: Readonly<Record<string, unknown>>
}

/** The property `effect-uk configure` attaches to each module namespace loaded by `config.ts`. */
export const modulePathProperty = "__effectUkModule"

/**
 * The main program: export `name` of the module `module`, imported in
 * `config.ts` as a namespace (`import * as Unikernel from "./unikernel.ts"`).
 * `effect-uk configure` records which file the namespace came from; pass
 * `{ path }` when evaluating a configuration some other way.
 */
export const foreign = <M, K extends keyof M & string>(
  module: M,
  name: K,
  options?: { readonly path?: string },
): Job<RequirementsOf<M[K]>> => {
  const path = options?.path ?? (module as Record<string, unknown>)[modulePathProperty]
  if (typeof path !== "string") {
    throw new Error(
      `foreign(…, "${name}"): the module's file is unknown; import it as a namespace in config.ts ` +
        `(import * as Unikernel from "./unikernel.ts") and run effect-uk configure, or pass { path: "./unikernel.ts" }`,
    )
  }
  const value = (module as Record<string, unknown>)[name]
  if (value === undefined) throw new Error(`foreign: ${path} has no export "${name}"`)
  const hasStart = !Effect.isEffect(value) && typeof value === "object" && value !== null && "start" in value
  return { module: path, export: name, hasStart, exports: module as Readonly<Record<string, unknown>> }
}

/** Everything a build or clean step may use. */
export interface StepContext {
  /** The unikernel's directory (absolute); steps run with it as the working directory. */
  readonly dir: string
}

/**
 * A custom step of `effect-uk build` and `effect-uk clean` (the tutorial's
 * block example makes `disk.img` at build and deletes it at clean). The files
 * it makes are listed so that `query files` shows them and `clean` removes them
 * after the step's own `clean`.
 */
export interface Step {
  /** What the step does, shown as a progress line. */
  readonly description: string
  /** Files the step makes, relative to the unikernel's directory. */
  readonly files: ReadonlyArray<string>
  /**
   * Files or directories the step reads, relative to the unikernel's
   * directory: when given, the step runs at every build and `run` rebuilds
   * when they change; without them the step is skipped while its files exist.
   */
  readonly sources?: ReadonlyArray<string>
  /** Make the files. */
  readonly build: (context: StepContext) => Effect.Effect<void, unknown>
  /** Extra clean-up; the listed files are removed in any case. */
  readonly clean?: (context: StepContext) => Effect.Effect<void, unknown>
}

/** The error shown when a program needs services that no device provides. */
export interface MissingDevices<S> {
  readonly "error: the program requires services that no device in `devices` provides": S
}

/** Devices are accepted when they provide every service the program requires. */
export type CheckDevices<R, D extends ReadonlyArray<AnyDevice>> =
  [Exclude<R, ServiceOf<D[number]>>] extends [never] ? D : D & MissingDevices<Exclude<R, ServiceOf<D[number]>>>

/** A unikernel's configuration: what `config.ts` exports by default. */
export interface UnikernelConfig {
  readonly name: string
  readonly main: Job<any>
  readonly devices: ReadonlyArray<AnyDevice>
  readonly keys: ReadonlyArray<AnyKey>
  readonly packages: ReadonlyArray<string>
  readonly steps: ReadonlyArray<Step>
}

const validName = /^[a-z0-9][a-z0-9_-]*$/

/** Register a unikernel (MirageOS `register`): its name, main program, devices, keys, packages and steps. */
export const register = <R, const D extends ReadonlyArray<AnyDevice>>(config: {
  /** The unikernel's name: the built executable is `DIR/<name>`. */
  readonly name: string
  readonly main: Job<R>
  readonly devices: CheckDevices<R, D>
  /** Keys the program reads (device keys are added by their devices). */
  readonly keys?: ReadonlyArray<AnyKey>
  /** Extra npm packages, installed by `effect-uk depend`. */
  readonly packages?: ReadonlyArray<string>
  readonly steps?: ReadonlyArray<Step>
}): UnikernelConfig => {
  if (!validName.test(config.name)) {
    throw new Error(`unikernel name "${config.name}" is not valid: use lower-case letters, digits, '-' and '_'`)
  }
  const devices = config.devices as ReadonlyArray<AnyDevice>
  const seen = new Set<string>()
  for (const device of devices) {
    if (seen.has(device.name)) throw new Error(`device "${device.name}" is listed twice in devices`)
    seen.add(device.name)
  }
  return {
    name: config.name,
    main: config.main,
    devices,
    keys: config.keys ?? [],
    packages: config.packages ?? [],
    steps: config.steps ?? [],
  }
}
