/**
 * What a generated entry point imports: `boot`, key rebuilding and key types.
 * Kept free of Schema and the CLI library so a unikernel starts fast.
 */
export { boot, ExitCode, helpText, prepare } from "./core/Boot.ts"
export type { BootIO, BootSpec } from "./core/Boot.ts"
export { fromText as keyFromText } from "./core/Key.ts"
export * as KeyTypes from "./core/KeyTypes.ts"
export { unikernelFile } from "./core/UnikernelFile.ts"
