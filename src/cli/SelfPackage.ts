/**
 * The effect-uk package the running tool belongs to. A unikernel's imports of
 * `effect-uk` and `effect-uk/...` resolve to it (through the package's
 * `exports`), wherever the unikernel's directory is, so a project does not
 * need its own copy to configure and build.
 */
import type * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"

/** The root of the running effect-uk package. */
export const toolRoot = path.resolve(import.meta.dirname, "../..")

const exportsMap = (JSON.parse(fs.readFileSync(path.join(toolRoot, "package.json"), "utf8")) as {
  readonly exports: Record<string, string>
}).exports

/** The file an `effect-uk…` import names, or undefined when it is not exported. */
export const resolveSelf = (specifier: string): string | undefined => {
  const subpath = "." + specifier.slice("effect-uk".length)
  for (const [pattern, target] of Object.entries(exportsMap)) {
    const star = pattern.indexOf("*")
    if (star < 0 ? pattern === subpath : subpath.startsWith(pattern.slice(0, star)) && subpath.endsWith(pattern.slice(star + 1))) {
      const matched = star < 0 ? "" : subpath.slice(star, subpath.length - (pattern.length - star - 1))
      const file = path.join(toolRoot, target.replace("*", matched))
      return fs.existsSync(file) ? file : undefined
    }
  }
  return undefined
}

/** TypeScript `paths` sending `effect-uk` imports to this package. */
export const selfPaths = (): Record<string, Array<string>> =>
  Object.fromEntries(Object.entries(exportsMap).map(([pattern, target]) => [
    "effect-uk" + pattern.slice(1),
    [path.join(toolRoot, target)],
  ]))

/** An esbuild plugin resolving `effect-uk` imports to this package. */
export const selfResolvePlugin: esbuild.Plugin = {
  name: "effect-uk-self",
  setup(build) {
    build.onResolve({ filter: /^effect-uk(\/.*)?$/ }, (args) => {
      const file = resolveSelf(args.path)
      return file
        ? { path: file }
        : { errors: [{ text: `effect-uk has no export "${args.path}": see the "exports" of its package.json` }] }
    })
  },
}
