/**
 * Configuration keys (functoria's `Key`): a name, a type, a doc string, a
 * default and a stage. A key is also an Effect `Context.Reference`, so a
 * program reads it with `yield* key` and a test overrides it with
 * `Effect.provideService(key, value)`; the generated entry point provides the
 * value from the configure defaults and the command line.
 */
import { Context } from "effect"
import type { KeyType } from "./KeyType.ts"

/**
 * When a key may be set: only at `configure` (it chooses code, like `--kv_ro`),
 * only when running, or both (a configure value becomes the runtime default).
 */
export type Stage = "configure" | "runtime" | "both"

/** What describes a key, apart from its name and type. */
export interface KeyOptions<A> {
  /** One line for `--help` and `help configure`. */
  readonly doc: string
  /** The value when the key is not given. */
  readonly default: A
  /** When the key may be set; `"both"` unless said. */
  readonly stage?: Stage
  /** Single-letter aliases (`l` for `--logs` gives `-l`). */
  readonly aliases?: ReadonlyArray<string>
  /** The key's group in help (`UNIKERNEL PARAMETERS` unless said). */
  readonly section?: string
}

/** A configuration key whose values have type `A`. */
export interface Key<A> extends Context.Reference<A> {
  readonly name: string
  readonly type: KeyType<A>
  readonly doc: string
  readonly default: A
  readonly stage: Stage
  readonly aliases: ReadonlyArray<string>
  readonly section: string
}

/** A key of any value type. */
export type AnyKey = Key<any>

const validName = /^[a-z][a-z0-9_-]*$/

/** Declare a key. Names are lower case, as MirageOS keys are (`hello`, `kv_ro`, `ipv4-gateway`). */
export const create = <A>(name: string, type: KeyType<A>, options: KeyOptions<NoInfer<A>>): Key<A> => {
  if (!validName.test(name)) {
    throw new Error(`key name "${name}" is not valid: use lower-case letters, digits, '-' and '_', starting with a letter`)
  }
  const reference = Context.Reference<A>(`effect-uk/Key/${name}`, { defaultValue: () => options.default })
  const fields = {
    name,
    type,
    doc: options.doc,
    default: options.default,
    stage: options.stage ?? "both",
    aliases: options.aliases ?? [],
    section: options.section ?? "UNIKERNEL PARAMETERS",
  }
  // The reference is a class, whose own `name` is read-only: define the fields instead of assigning them.
  for (const [field, value] of Object.entries(fields)) {
    Object.defineProperty(reference, field, { value, enumerable: true, configurable: false, writable: false })
  }
  return reference as Key<A>
}

/** True when the key can be given to a built unikernel. */
export const isRuntime = (key: AnyKey): boolean => key.stage !== "configure"

/** True when the key can be given to `configure`. */
export const isConfigure = (key: AnyKey): boolean => key.stage !== "runtime"

/**
 * Rebuild a key whose default is given as text (`--name=text` form): the
 * generated entry point uses this to recreate a key with its configured
 * default. Throws on a default that does not parse (configure checked it).
 */
export const fromText = <A>(
  name: string,
  type: KeyType<A>,
  options: Omit<KeyOptions<A>, "default"> & { readonly default: string },
): Key<A> => {
  const parsed = type.parse(options.default)
  if (!parsed.ok) throw new Error(`default of --${name}: expected ${parsed.expected}, got ${JSON.stringify(options.default)}`)
  return create(name, type, { ...options, default: parsed.value })
}
