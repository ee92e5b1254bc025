/**
 * Storage devices: the `Block` device and its layers, the `KvRo` read-only
 * store with its four implementations (crunch, direct, fat, archive), and the
 * build steps that make their images.
 */
export { Block, BlockDisconnected, BlockIoFailure, BlockOutOfRange, BlockReadOnly, BlockUnaligned } from "./Block.ts"
export type { BlockError, BlockInfo } from "./Block.ts"
export { layerFile } from "./BlockFile.ts"
export type { FileOptions } from "./BlockFile.ts"
export { createImage, deleteImage } from "./BlockImage.ts"
export { layerMemory } from "./BlockMemory.ts"
export type { MemoryOptions } from "./BlockMemory.ts"
export { KvBuildError, scanDirectory } from "./DirectoryScan.ts"
export { fatImageOfEntries, makeFatImage } from "./FatImage.ts"
export type { FatImageOptions } from "./FatImage.ts"
export { keyToString, KvInvalidKey, parseKey } from "./Key.ts"
export type { Key } from "./Key.ts"
export { digestListing, KvCorrupt, KvDictionaryExpected, KvInvalidRange, KvNotFound, KvRo, KvValueExpected } from "./KvRo.ts"
export type { KeyInput, Kind, KvEntry, KvRoError } from "./KvRo.ts"
export { layerArchive } from "./KvRoArchive.ts"
export { crunchModuleSource, layerCrunch, renderCrunchModule, writeCrunchModule } from "./KvRoCrunch.ts"
export type { CrunchEntry } from "./KvRoCrunch.ts"
export { layerDirect } from "./KvRoDirect.ts"
export { layerFat } from "./KvRoFat.ts"
export { provideAs } from "./provideAs.ts"
export { makeTarImage, tarOfEntries } from "./TarImage.ts"
