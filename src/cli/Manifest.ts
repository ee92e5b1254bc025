/**
 * `_build/manifest.json`: what `configure` decided (MirageOS's generated
 * opam/dune files and key defaults, as data). `build`, `query` and `clean`
 * read it back through its Schema, so a hand-edited or stale manifest is
 * reported, not trusted.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import { targets } from "../core/Target.ts"
import { NotConfigured } from "./CliError.ts"
import { manifestFile } from "./Paths.ts"

/** A key with its configured value, both as command-line text. */
export const ManifestKey = Schema.Struct({
  name: Schema.String,
  stage: Schema.Literals(["configure", "runtime", "both"]),
  doc: Schema.String,
  type: Schema.String,
  metavar: Schema.String,
  choices: Schema.optional(Schema.Array(Schema.String)),
  aliases: Schema.Array(Schema.String),
  section: Schema.String,
  default: Schema.String,
  value: Schema.String,
})

/** A device and the layer chosen for it. */
export const ManifestDevice = Schema.Struct({
  name: Schema.String,
  service: Schema.String,
  implementation: Schema.String,
  imports: Schema.Array(Schema.Struct({ from: Schema.String, as: Schema.String })),
  layer: Schema.String,
  dependsOn: Schema.Array(Schema.String),
  registered: Schema.Boolean,
  /** On a VM target: the host file attached as this device's disk. */
  disk: Schema.optional(Schema.Struct({ file: Schema.String, readOnly: Schema.optional(Schema.Boolean) })),
  /** On a VM target: this device takes a guest NIC, for raw frames (`packet`) or the guest kernel's stack (`kernel`). */
  nic: Schema.optional(Schema.Literals(["packet", "kernel"])),
})

/** The whole manifest. */
export const Manifest = Schema.Struct({
  name: Schema.String,
  target: Schema.Literals(targets),
  /** The configure command line's key arguments, reused when `run` configures again. */
  arguments: Schema.Array(Schema.String),
  main: Schema.Struct({ module: Schema.String, export: Schema.String, hasStart: Schema.Boolean }),
  devices: Schema.Array(ManifestDevice),
  keys: Schema.Array(ManifestKey),
  packages: Schema.Array(Schema.String),
  files: Schema.Array(Schema.String),
  steps: Schema.Array(Schema.Struct({ description: Schema.String, files: Schema.Array(Schema.String) })),
})

/** A decoded manifest. */
export type Manifest = typeof Manifest.Type

const codec = Schema.fromJsonString(Manifest)

/** The manifest as written to disk (stable key order, two-space indent). */
export const encodeManifest = (manifest: Manifest): string => JSON.stringify(manifest, null, 2) + "\n"

/** Read and check `DIR/_build/manifest.json`. */
export const readManifest = (dir: string): Effect.Effect<Manifest, NotConfigured> =>
  Effect.gen(function* () {
    const file = manifestFile(dir)
    if (!fs.existsSync(file)) return yield* new NotConfigured({ dir })
    const text = fs.readFileSync(file, "utf8")
    return yield* Schema.decodeUnknownEffect(codec)(text).pipe(Effect.mapError(() => new NotConfigured({ dir })))
  })
