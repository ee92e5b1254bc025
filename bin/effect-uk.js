#!/usr/bin/env node
// The effect-uk command. The tool is TypeScript run by Node's type stripping,
// which needs Node >= 22.19 (npm scripts and npx use the pinned node@24).
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `effect-uk needs Node >= 22.19 (this is ${process.version}): run it with npx effect-uk, ` +
      "which uses the project's pinned node@24, or install a newer Node\n",
  )
  process.exit(1)
}
const { main } = await import("../src/cli/main.ts")
const { Effect } = await import("effect")
await Effect.runPromise(main(process.argv.slice(2)))
