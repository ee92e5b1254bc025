/**
 * Choosing kernel modules for an image: the drivers a target needs, with the
 * modules they depend on, in an order `insmod` can load them.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { moduleDependencies } from "./ModInfo.ts"

/** A module to load: its canonical name (`virtio_blk`) and its `.ko` file. */
export interface KernelModule {
  readonly name: string
  readonly file: string
}

/** Module names compare with `-` and `_` as one (the kernel's own rule). */
const canonical = (name: string): string => name.replace(/-/g, "_")

/** Every `.ko` under `modulesDir/kernel`, by canonical name. */
const moduleIndex = (modulesDir: string): Map<string, string> => {
  const index = new Map<string, string>()
  const files = fs.readdirSync(path.join(modulesDir, "kernel"), { recursive: true }) as Array<string>
  for (const file of files) {
    if (file.endsWith(".ko")) index.set(canonical(path.basename(file, ".ko")), path.join(modulesDir, "kernel", file))
  }
  return index
}

/** Modules built into the kernel (`modules.builtin`): nothing to load for them. */
const builtinModules = (modulesDir: string): Set<string> => {
  const file = path.join(modulesDir, "modules.builtin")
  if (!fs.existsSync(file)) return new Set()
  return new Set(fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => canonical(path.basename(l, ".ko"))))
}

/**
 * The modules `names` need, dependencies first, each once. A name the kernel
 * has built in is skipped; one it has neither built in nor as a module is an error.
 */
export const resolveModules = (modulesDir: string, names: ReadonlyArray<string>): Array<KernelModule> => {
  const index = moduleIndex(modulesDir)
  const builtin = builtinModules(modulesDir)
  const ordered: Array<KernelModule> = []
  const visiting = new Set<string>()
  const done = new Set<string>()
  const visit = (wanted: string) => {
    const name = canonical(wanted)
    if (done.has(name) || builtin.has(name)) return
    if (visiting.has(name)) throw new Error(`kernel modules depend on each other in a cycle through ${name}`)
    const file = index.get(name)
    if (file === undefined) throw new Error(`the kernel in ${modulesDir} has no module ${name}: pick a kernel package that has it`)
    visiting.add(name)
    for (const dependency of moduleDependencies(fs.readFileSync(file))) visit(dependency)
    visiting.delete(name)
    done.add(name)
    ordered.push({ name, file })
  }
  for (const name of names) visit(name)
  return ordered
}
