/**
 * Storage devices for `config.ts`: `blockOfFile` (MirageOS `block_of_file`),
 * `genericKvRo` (MirageOS `generic_kv_ro`, chosen by the `--kv_ro` key) and
 * the single-implementation stores `crunch`, `direct`, `fatOfFiles` and
 * `archiveOfFiles`, plus the `imageStep` that makes a blank disk image at
 * build and deletes it at clean.
 */
import type { Context } from "effect"
import * as Device from "../core/Device.ts"
import * as Key from "../core/Key.ts"
import * as KeyType from "../core/KeyType.ts"
import { targetModule } from "../core/Target.ts"
import type { Step } from "../core/Unikernel.ts"
import type { Block } from "./Block.ts"
import { createImage, deleteImage } from "./BlockImage.ts"
import { makeFatImage } from "./FatImage.ts"
import { KvRo } from "./KvRo.ts"
import { writeCrunchModule } from "./KvRoCrunch.ts"
import { makeTarImage } from "./TarImage.ts"

const storage = { from: "effect-uk/block", as: "Storage" } as const

/** How a `Block` device uses its image file. */
export interface BlockOfFileOptions {
  /** Bytes per sector; 512 unless said. */
  readonly sectorSize?: number
  /** Refuse writes. */
  readonly readOnly?: boolean
  /** The device's name in the manifest; `block` unless said. */
  readonly name?: string
}

/** A `Block` device on a file of the unikernel's directory (MirageOS `block_of_file "disk.img"`). */
export const blockOfFile = (file: string, options: BlockOfFileOptions = {}): Device.Device<Block> =>
  Device.make<Block>({
    name: options.name ?? "block",
    service: "Block",
    implement: ({ target }) => {
      if (target !== "unix") {
        const spec = {
          name: options.name ?? "block",
          ...(options.readOnly ? { readOnly: true } : {}),
          ...(options.sectorSize ? { sectorSize: options.sectorSize } : {}),
        }
        return {
          description: `${target} disk ${spec.name} (the launcher's --disk, default ${file})${options.readOnly ? " (read-only)" : ""}`,
          imports: [{ from: targetModule(target), as: "Target" }],
          layer: `Target.block(${JSON.stringify(spec)})`,
          disk: { file, ...(options.readOnly ? { readOnly: true } : {}) },
        }
      }
      const path = Device.unikernelFileCode(file)
      const fields = [
        `path: ${path.code}`,
        ...(options.sectorSize ? [`sectorSize: ${options.sectorSize}`] : []),
        ...(options.readOnly ? ["readOnly: true"] : []),
      ]
      return {
        description: `file ${file}${options.readOnly ? " (read-only)" : ""}`,
        imports: [storage, ...path.imports],
        layer: `Storage.layerFile({ ${fields.join(", ")} })`,
      }
    },
  })

/**
 * A build step making `file` a blank (zero, sparse) image of `bytes` bytes,
 * and deleting it at clean: the tutorial's `dd if=/dev/zero of=disk.img`.
 */
export const imageStep = (file: string, bytes: number, sectorSize = 512): Step => ({
  description: `make the ${bytes}-byte image ${file}`,
  files: [file],
  build: () => createImage(file, bytes, sectorSize),
  clean: () => deleteImage(file),
})

/** The ways `genericKvRo` can provide a store. */
export const kvRoModes = ["crunch", "direct", "fat", "archive"] as const

/** A store's implementation. */
export type KvRoMode = (typeof kvRoModes)[number]

/** The `--kv_ro` configure key (MirageOS's own). */
export const kvRoKey = Key.create("kv_ro", KeyType.choice("KV_RO", kvRoModes), {
  doc: "Use a fat, archive, crunch or direct pass-through implementation for the unikernel.",
  default: "crunch",
  stage: "configure",
})

/** Options of a key-value store device providing the service `S`. */
export interface KvRoOptions<S = KvRo> {
  /** The device's name in the manifest and its generated files; `kv_ro` unless said. */
  readonly name?: string
  /**
   * The service the store provides, for a second store in one unikernel: a
   * `Context.Service` with the `KvRo` shape declared by the program. `KvRo`
   * unless said.
   */
  readonly service?: Context.Service<S, KvRo["Service"]> & { readonly key: string }
}

/** The layer expression providing the store's service from a layer that provides `KvRo`, or why it cannot. */
const asService = (layer: string, options: KvRoOptions<any>, context: Device.ImplementContext): string | { error: string } => {
  if (options.service === undefined || options.service.key === KvRo.key) return layer
  const name = context.mainExport(options.service)
  return name === undefined
    ? { error: `the service ${options.service.key} given as { service } must be exported by the unikernel's main module` }
    : `Storage.provideAs(${name}, ${layer})`
}

/** The implementation of a store over `dir` in the given mode, or why it cannot be made. */
const kvRoImplementation = (
  dir: string,
  mode: KvRoMode,
  name: string,
  options: KvRoOptions<any>,
  context: Device.ImplementContext,
): Device.Implementation | string => {
  if (mode === "direct" && context.target !== "unix") {
    return "direct stores read the host's files and exist only on unix; use --kv_ro=crunch, fat or archive"
  }
  const generated = (extension: string) => `_build/${name}-${dir.replace(/[^A-Za-z0-9_-]/g, "_")}.${extension}`
  const module = `Crunched_${name.replace(/[^A-Za-z0-9_]/g, "_")}`
  const base = {
    crunch: `Storage.layerCrunch(${module}.entries)`,
    direct: `Storage.layerDirect(${Device.unikernelFileCode(dir).code})`,
    fat: "Storage.layerFat",
    archive: "Storage.layerArchive",
  }[mode]
  const layer = asService(base, options, context)
  if (typeof layer !== "string") return layer.error
  if (mode === "crunch") {
    const file = generated("ts")
    return {
      description: `crunch of ${dir}/ compiled into the unikernel`,
      imports: [storage, { from: `./${file.slice("_build/".length)}`, as: module }],
      layer,
      steps: [{ description: `crunch ${dir}/ into ${file}`, files: [file], sources: [dir], build: () => writeCrunchModule(dir, file) }],
    }
  }
  if (mode === "direct") {
    return {
      description: `direct access to ${dir}/ on the host`,
      imports: [storage, ...Device.unikernelFileCode(dir).imports],
      layer,
    }
  }
  const image = generated(mode === "fat" ? "img" : "tar")
  const what = mode === "fat" ? "FAT image" : "tar archive"
  return {
    description: `${what} of ${dir}/ on a block device`,
    imports: [storage],
    layer,
    dependsOn: [blockOfFile(image, { readOnly: true, name: `${name}-block` })],
    steps: [{
      description: `make the ${what} ${image} of ${dir}/`,
      files: [image],
      sources: [dir],
      build: () => (mode === "fat" ? makeFatImage(dir, image) : makeTarImage(dir, image)),
    }],
  }
}

/** A read-only store of the directory `dir` in one fixed mode. */
const fixedKvRo = (mode: KvRoMode) => <S = KvRo>(dir: string, options: KvRoOptions<S> = {}): Device.Device<S> => {
  const name = options.name ?? "kv_ro"
  return Device.make<S>({
    name,
    service: "KvRo",
    implement: (context) => kvRoImplementation(dir, mode, name, options, context),
  })
}

/** The directory compiled into the unikernel (MirageOS `crunch "t"`). */
export const crunch = fixedKvRo("crunch")
/** The host directory read at run time (MirageOS `direct_kv_ro "t"`), unix only. */
export const direct = fixedKvRo("direct")
/** A FAT image of the directory made at build, read through a block device (`kv_ro_of_fs (fat_of_files "t")`). */
export const fatOfFiles = fixedKvRo("fat")
/** A tar archive of the directory made at build, read through a block device (MirageOS `archive_of_files`). */
export const archiveOfFiles = fixedKvRo("archive")

/** A store of `dir` whose implementation the `--kv_ro` key chooses (MirageOS `generic_kv_ro "t"`). */
export const genericKvRo = <S = KvRo>(dir: string, options: KvRoOptions<S> = {}): Device.Device<S> => {
  const name = options.name ?? "kv_ro"
  return Device.make<S>({
    name,
    service: "KvRo",
    keys: [kvRoKey],
    implement: (context) => {
      const mode = (context.keys.get(kvRoKey.name) ?? kvRoKey.default) as KvRoMode
      return kvRoImplementation(dir, mode, name, options, context)
    },
  })
}
