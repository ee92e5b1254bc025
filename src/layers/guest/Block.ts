/**
 * Block devices inside a VM guest: the disk the launcher (or the `.xl`
 * file) attached for a manifest device, found by its position in the image's
 * disk list (`/dev/vda` for the first on hvt, `/dev/xvda` on Xen) and used
 * through the same positional-I/O layer as a unix disk image.
 */
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import { BlockIoFailure, type Block, type BlockError } from "../../block/Block.ts"
import { layerFile } from "../../block/BlockFile.ts"
import { diskLetters, disksListFile, type GuestBlockSpec } from "./BlockSpec.ts"

/** The guest's device file for the disk named `name`, given the list of disk names and the device prefix. */
export const diskPath = (names: ReadonlyArray<string>, name: string, devicePrefix: string): string | undefined => {
  const index = names.indexOf(name)
  return index < 0 ? undefined : devicePrefix + diskLetters(index)
}

/** A layer factory for the block devices of a target whose disks are `<devicePrefix>a`, `…b`… */
export const guestBlock = (devicePrefix: string) => (spec: GuestBlockSpec): Layer.Layer<Block, BlockError> =>
  Layer.unwrap(Effect.gen(function* () {
    const names = yield* Effect.try({
      try: () => fs.readFileSync(disksListFile, "utf8").split("\n"),
      catch: (cause) => new BlockIoFailure({ operation: `read the disk list ${disksListFile}`, cause }),
    })
    const path = diskPath(names, spec.name, devicePrefix)
    if (path === undefined) {
      return yield* new BlockIoFailure({
        operation: `find the disk of ${spec.name}`,
        cause: new Error(`${disksListFile} does not list it: build the image again (effect-uk build)`),
      })
    }
    return layerFile({
      path,
      ...(spec.readOnly === undefined ? {} : { readOnly: spec.readOnly }),
      ...(spec.sectorSize === undefined ? {} : { sectorSize: spec.sectorSize }),
    })
  }))
