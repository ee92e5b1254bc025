/**
 * `require` for the ES module bundles esbuild makes of a configuration and
 * of a unikernel: a CommonJS package in the bundle that requires a Node
 * module (`require("events")`, as `ws` does under `@effect/platform-node`)
 * otherwise fails at run time with esbuild's "Dynamic require of … is not
 * supported".
 */

/** An esbuild `banner` that defines `require` at the top of an ES module bundle for Node. */
export const nodeRequireBanner = {
  js: "import { createRequire as __effectUkCreateRequire } from \"node:module\";\nconst require = __effectUkCreateRequire(import.meta.url);",
}
