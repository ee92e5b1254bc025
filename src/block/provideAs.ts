/**
 * A second store in one unikernel: the program declares its own service with
 * the `KvRo` shape (`class Disk2 extends Context.Service<Disk2, KvRo["Service"]>()(…)`),
 * and the store's layer is provided under that service too.
 */
import { Effect, Layer } from "effect"
import type { Context } from "effect"
import { KvRo } from "./KvRo.ts"

/** Provide what `layer` provides as `KvRo` under the service `tag` instead. */
export const provideAs = <I, E, R>(
  tag: Context.Service<I, KvRo["Service"]>,
  layer: Layer.Layer<KvRo, E, R>,
): Layer.Layer<I, E, R> => Layer.effect(tag, Effect.service(KvRo)).pipe(Layer.provide(layer))
