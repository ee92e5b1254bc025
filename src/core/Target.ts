/**
 * Targets: where a unikernel runs. A target is a module of device layers
 * (`src/layers/<target>.ts`) that the generated entry point imports.
 */

/** Every target `configure -t` knows. */
export const targets = ["unix", "hvt", "xen"] as const

/** A target name. */
export type Target = (typeof targets)[number]

/** The module a target's device layers are imported from in a generated entry point. */
export const targetModule = (target: Target): string => `effect-uk/layers/${target}`
