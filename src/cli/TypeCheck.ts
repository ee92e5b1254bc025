/**
 * Type-checking a configured unikernel: its generated entry point and its
 * `config.ts`, with the TypeScript compiler API. This is where a device
 * missing from `config.ts` becomes an error naming the missing service.
 */
import { Effect } from "effect"
import * as path from "node:path"
import type ts from "typescript"
import { TypeCheckFailed } from "./CliError.ts"
import { selfPaths } from "./SelfPackage.ts"

/** The options every unikernel is checked with (strict; imports as esbuild resolves them). */
const compilerOptions = (typescript: typeof ts): ts.CompilerOptions => ({
  target: typescript.ScriptTarget.ES2023,
  lib: ["lib.es2023.d.ts"],
  module: typescript.ModuleKind.ESNext,
  moduleResolution: typescript.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  isolatedModules: true,
  types: ["node"],
  paths: selfPaths(),
})

const format = (typescript: typeof ts) => (diagnostic: ts.Diagnostic): string => {
  const message = typescript.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ")
  if (!diagnostic.file || diagnostic.start === undefined) return message
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  return `${path.relative(process.cwd(), diagnostic.file.fileName)}:${line + 1}:${character + 1}: ${message}`
}

/**
 * Type-check the given files; fails with every diagnostic as
 * `file:line:col: message`. The compiler is loaded only here, so the other
 * commands start without it.
 */
export const typeCheck = (files: ReadonlyArray<string>): Effect.Effect<void, TypeCheckFailed> =>
  Effect.promise(() => import("typescript")).pipe(Effect.flatMap(({ default: typescript }) => {
    const program = typescript.createProgram({ rootNames: files, options: compilerOptions(typescript) })
    const diagnostics = typescript.getPreEmitDiagnostics(program)
    return diagnostics.length === 0
      ? Effect.void
      : Effect.fail(new TypeCheckFailed({ diagnostics: diagnostics.map(format(typescript)).join("\n") }))
  }))
