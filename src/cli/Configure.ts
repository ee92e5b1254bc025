/**
 * `effect-uk configure`: write the generated entry point and the manifest
 * into `DIR/_build`.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import type { Target } from "../core/Target.ts"
import { computeConfiguration } from "./Configuration.ts"
import { entrySource } from "./Entry.ts"
import type { LoadedConfig } from "./LoadConfig.ts"
import { encodeManifest } from "./Manifest.ts"
import { buildDir, entryFile, manifestFile } from "./Paths.ts"

/** Configure a loaded unikernel for `target` with the configure-time key arguments. */
export const configure = (loaded: LoadedConfig, target: Target, argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { manifest } = yield* computeConfiguration(loaded, target, argv)
    fs.mkdirSync(buildDir(loaded.dir), { recursive: true })
    fs.writeFileSync(entryFile(loaded.dir), entrySource(manifest))
    fs.writeFileSync(manifestFile(loaded.dir), encodeManifest(manifest))
    return manifest
  })
