/**
 * `effect-uk describe`: the device graph of a configuration, as text or as
 * Graphviz dot (`--dot`).
 */
import type { Manifest } from "./Manifest.ts"

const quote = (text: string): string => JSON.stringify(text)

/** The graph in Graphviz dot: the main job, each device with its implementation, and their edges. */
export const describeDot = (manifest: Manifest): string => {
  const main = `${manifest.main.module}#${manifest.main.export}`
  const lines = [
    `digraph ${quote(manifest.name)} {`,
    "  rankdir=LR;",
    `  main [shape=box, label=${quote(`${manifest.name}\n${main}`)}];`,
  ]
  for (const device of manifest.devices) {
    lines.push(`  ${quote(device.name)} [label=${quote(`${device.name}: ${device.service}\n${device.implementation}`)}];`)
    if (device.registered) lines.push(`  main -> ${quote(device.name)};`)
    for (const dependency of device.dependsOn) lines.push(`  ${quote(device.name)} -> ${quote(dependency)};`)
  }
  lines.push("}")
  return lines.join("\n") + "\n"
}

/** The configuration as text: name, target, main, devices and key values. */
export const describeText = (manifest: Manifest): string =>
  [
    `name       ${manifest.name}`,
    `target     ${manifest.target}`,
    `main       ${manifest.main.module}#${manifest.main.export}`,
    "devices",
    ...manifest.devices.map((d) =>
      `  ${d.name}: ${d.service} = ${d.implementation}${d.dependsOn.length ? ` (needs ${d.dependsOn.join(", ")})` : ""}`
    ),
    "keys",
    ...manifest.keys.map((k) => `  --${k.name}=${k.value}  [${k.stage}]`),
    `packages   ${manifest.packages.join(" ") || "(none)"}`,
    "",
  ].join("\n")
