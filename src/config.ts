/**
 * effect-uk: the configuration side, for `config.ts` files: `register`,
 * `foreign`, devices, keys and build steps.
 */
export * from "./core/devices.ts"
export * as Device from "./core/Device.ts"
export * as Key from "./core/Key.ts"
export * as KeyType from "./core/KeyType.ts"
export { foreign, register } from "./core/Unikernel.ts"
export type { Job, Step, StepContext, UnikernelConfig } from "./core/Unikernel.ts"
export {
  archiveOfFiles,
  blockOfFile,
  crunch,
  direct,
  fatOfFiles,
  genericKvRo,
  imageStep,
  kvRoKey,
} from "./block/devices.ts"
export { defaultNetwork, genericStackv4 } from "./net/devices.ts"
