/**
 * `IpLayer`: the Effect shell around the IPv4 engine (`engine/ipv4.ts`) of
 * the direct stack, over a `Netif`. It is what transports plug into:
 *
 * - `register(protocol)` plugs a `TransportProtocol` (UDP is 17, TCP 6) in
 *   until the scope closes; its `input` runs in the receive fiber;
 * - `sender` is the `IpSender` they send with (plain synchronous calls;
 *   frames are written by the writer fiber, or at once with `flush`).
 *
 * Fibers, all scoped to the layer: one receive fiber consumes `netif.frames`
 * batch by batch and writes the replies of a batch with one `writeBatch`
 * (and, where a transport pushes, what it sent so far before going on with
 * the batch); where the device offers batches at once (`Netif.takeNow`),
 * they are handled in its callback, and only what must wait for the device
 * goes on in a fiber, the batches after it waiting for it;
 * one timer fiber sleeps until the engine's next deadline (ARP retries,
 * reassembly timeouts) on Effect's `Clock`, woken early when an earlier
 * deadline appears; one writer fiber sends what transports queued outside
 * the receive fiber. A gratuitous ARP announces our address at start.
 */
import { Clock, Context, Duration, Effect, Fiber, FiberSet, Latch, Layer, Stream } from "effect"
import type { Scope } from "effect"
import * as Log from "../../core/Log.ts"
import type { ArpStats } from "../engine/arp.ts"
import { Ipv4Engine } from "../engine/ipv4.ts"
import type { IcmpObserver, Ipv4Stats } from "../engine/ipv4.ts"
import type { PayloadWriter } from "../engine/packetize.ts"
import type { ReassemblyStats } from "../engine/reassembly.ts"
import { Netif } from "../Netif.ts"
import type { FrameBatch, NetifError } from "../Netif.ts"
import { StackDeviceFailed, StackUnreachable } from "../Stack.ts"
import type { StackInvalidArgument } from "../Stack.ts"
import type { Ipv4, Ipv4Cidr } from "../wire/addr.ts"
import { formatIpv4, readMac } from "../wire/addr.ts"
import type { Ipv4Config } from "./Config.ts"
import { parseIpv4Config } from "./Config.ts"
import type { IpSender, TransportProtocol } from "./Transport.ts"

/** Counters of the IPv4 layer and its engines. */
export interface IpLayerStats {
  readonly ip: Ipv4Stats
  readonly arp: ArpStats
  readonly reassembly: ReassemblyStats
}

/** The direct stack's IPv4 layer, for transports (UDP, TCP) and ICMP users (ping). */
export class IpLayer extends Context.Service<IpLayer, {
  /** Our address, subnet and gateway. */
  readonly cidr: Ipv4Cidr
  readonly gateway: Ipv4 | undefined
  /** What transports send with; frames go out through the writer fiber. */
  readonly sender: IpSender
  /**
   * Plug `protocol` in until the scope closes. Dies if its protocol number
   * is taken or is ICMP's (1, built in).
   */
  readonly register: (protocol: TransportProtocol) => Effect.Effect<void, never, Scope.Scope>
  /** See the ICMP messages received other than echo requests, until the scope closes. */
  readonly observeIcmp: (observer: IcmpObserver) => Effect.Effect<void, never, Scope.Scope>
  /**
   * During a `TransportProtocol.input` call, answer that packet with an ICMP
   * destination unreachable of `code` (not for broadcasts).
   */
  readonly unreachable: (code: number) => void
  /** Wait until the next hop toward `destination` is known (ARP, with retries). */
  readonly resolve: (destination: Ipv4) => Effect.Effect<void, StackUnreachable | StackDeviceFailed>
  /**
   * Send one packet as `sender.send` does, but waiting for ARP when the next
   * hop is unknown, and writing the frames at once: unreachable
   * destinations, backpressure and device errors reach the caller.
   */
  readonly transmit: (
    destination: Ipv4,
    protocol: number,
    length: number,
    write: PayloadWriter,
  ) => Effect.Effect<void, StackUnreachable | StackDeviceFailed>
  readonly stats: Effect.Effect<IpLayerStats>
}>()("effect-uk/IpLayer") {}

const deviceFailed = (error: NetifError) => new StackDeviceFailed({ reason: error.message, cause: error })

/** The IPv4 layer over the `Netif`, configured by `config`; a bad configuration fails the layer. */
export const layerIp = (config: Ipv4Config): Layer.Layer<IpLayer, StackInvalidArgument, Netif> =>
  Layer.effect(IpLayer, Effect.gen(function* () {
    const settings = yield* parseIpv4Config(config)
    const netif = yield* Netif
    const clock = yield* Clock.Clock
    const writerWake = Latch.makeUnsafe(false)
    const timerWake = Latch.makeUnsafe(false)
    /** True while a fiber that flushes by itself runs the engine: no need to wake the writer. */
    let flushingInline = false
    /**
     * Wakes the writer once the current synchronous work is over (a microtask),
     * not at once: resuming a fiber runs it on the spot, and the writer would
     * write each segment a transport queues on its own instead of all of them.
     */
    let writerWakeQueued = false
    const openWriter = () => {
      writerWakeQueued = false
      writerWake.openUnsafe()
    }
    /** Set once the device is gone: every later write fails with it. */
    let gone: StackDeviceFailed | undefined
    const engine = new Ipv4Engine({
      mac: readMac(netif.mac, 0),
      mtu: netif.mtu,
      tcpSegmentation: netif.tcpSegmentation,
      checksumOffload: netif.checksumOffload,
      cidr: settings.cidr,
      gateway: settings.gateway,
      staticArp: settings.staticArp,
      arpLimits: settings.arp,
      reassemblyLimits: settings.reassembly,
      icmpErrorLimit: settings.icmpErrors,
      pathMtuDiscovery: settings.pathMtuDiscovery,
      softwareSegmentation: settings.softwareSegmentation,
      now: () => clock.currentTimeMillisUnsafe(),
      onOutput: () => {
        if (flushingInline || writerWakeQueued) return
        writerWakeQueued = true
        queueMicrotask(openWriter)
      },
      onDeadline: () => timerWake.openUnsafe(),
    })

    /** The stack's error for a failed write; a device gone for good fails every later write too. */
    const failedWith = (error: NetifError): StackDeviceFailed => {
      const failure = deviceFailed(error)
      if (error._tag === "NetifDisconnected") gone = failure
      return failure
    }
    /**
     * Writes what the engine queued, at once where the device allows
     * (`Netif.writeNow`): undefined when all is written, else an effect for
     * the rest (waiting for room, failing).
     */
    const writeOutput = (): Effect.Effect<void, StackDeviceFailed> | undefined => {
      if (gone !== undefined) return Effect.fail(gone)
      const frames = engine.takeOutput()
      if (frames.length === 0) return undefined
      // The device has taken the frames once the write is over (the Netif contract): their buffers are reused.
      const rest = netif.writeNow === undefined ? netif.writeBatch(frames) : netif.writeNow(frames)
      if (rest === undefined) {
        engine.releaseOutput(frames)
        return undefined
      }
      return rest.pipe(Effect.ensuring(Effect.sync(() => engine.releaseOutput(frames))), Effect.mapError(failedWith))
    }
    const flushNow = (): Effect.Effect<void, StackDeviceFailed> => writeOutput() ?? Effect.void
    /**
     * After the engine ran: reports its faults and writes its output, logging
     * failures; undefined when there was nothing to report and all is written.
     */
    const settleNow = (): Effect.Effect<void> | undefined => {
      const faults = engine.takeFaults()
      const rest = writeOutput()
      const written = rest && Effect.catch(rest, (error) => (gone === error ? Effect.void : Effect.logWarning(error.message)))
      if (faults.length === 0) return written
      const logged = Effect.logWarning(`dropped ${faults.length} packet(s) on an internal error: ${faults.join("; ")}`)
      return written === undefined ? logged : Effect.andThen(logged, written)
    }
    const settle = Effect.suspend(() => settleNow() ?? Effect.void)
    const inline = <A>(run: () => A): A => {
      flushingInline = true
      try {
        return run()
      } finally {
        flushingInline = false
      }
    }

    /** Handles `batch` from `start` at once; undefined when all of it is done, else an effect for the rest (a write waiting for the device). */
    const receive = (batch: FrameBatch, start: number): Effect.Effect<void> | undefined => {
      const next = inline(() => engine.receive(batch, start))
      if (next < batch.length) {
        const settling = settleNow()
        return settling === undefined
          ? receive(batch, next)
          : Effect.andThen(settling, Effect.suspend(() => receive(batch, next) ?? Effect.void))
      }
      // The engine copies what it keeps (TCP and UDP data, fragments): the batch's memory can be reused.
      netif.release?.(batch)
      return settleNow()
    }
    /** Finishes what a batch taken at once (`Netif.takeNow`) left to do, in a fiber of the layer's. */
    const finish = yield* FiberSet.makeRuntime<never, void, never>()
    /** That fiber while it runs: the batches after it wait for it. */
    let unfinished: Fiber.Fiber<void> | undefined
    if (netif.takeNow !== undefined) {
      yield* netif.takeNow((batch) => {
        try {
          const rest = receive(batch, 0)
          if (rest !== undefined) unfinished = finish(rest)
        } catch (error) {
          // Called from the device's callback: a bug here must not throw there. The batch is not handed back, so later ones go through `frames`.
          finish(Effect.logError(`the stack dropped a received batch on an internal error: ${error}`))
        }
      })
    }
    const receiver = Stream.runForEach(netif.frames, (batch) => {
      const waiting = unfinished
      unfinished = undefined
      const handled = Effect.suspend(() => receive(batch, 0) ?? Effect.void)
      return waiting === undefined ? handled : Effect.andThen(Fiber.await(waiting), handled)
    }).pipe(Effect.catch((error) =>
      Effect.suspend(() => {
        gone = deviceFailed(error)
        return Effect.logError(`the stack stopped receiving: ${error.message}`)
      })
    ))
    const writer = Effect.forever(Effect.andThen(writerWake.await, Effect.andThen(writerWake.close, settle)))
    const timer = Effect.forever(Effect.suspend(() => {
      timerWake.closeUnsafe()
      inline(() => engine.tick())
      const deadline = engine.armTimer()
      const wait = deadline === undefined
        ? timerWake.await
        : Effect.raceFirst(clock.sleep(Duration.millis(Math.max(0, deadline - clock.currentTimeMillisUnsafe()))), timerWake.await)
      return Effect.andThen(settle, wait)
    }))
    yield* Effect.forkScoped(receiver)
    yield* Effect.forkScoped(writer)
    yield* Effect.forkScoped(timer)
    inline(() => engine.announce())
    yield* settle
    yield* Effect.logDebug(`${formatIpv4(settings.cidr.address)}/${settings.cidr.prefixLength} up, MTU ${netif.mtu}`)

    const unreachable = (destination: Ipv4, reason: string) => new StackUnreachable({ address: formatIpv4(destination), reason })
    /** Undefined when the next hop is known; else the wait for ARP (or the failure). */
    const resolveNow = (destination: Ipv4): Effect.Effect<void, StackUnreachable | StackDeviceFailed> | undefined => {
      let resume: ((result: Effect.Effect<void, StackUnreachable>) => void) | undefined
      const resolution = inline(() =>
        engine.resolve(destination, (problem) =>
          resume?.(problem === undefined ? Effect.void : Effect.fail(unreachable(destination, problem))))
      )
      switch (resolution._tag) {
        case "Ready":
          return undefined
        case "NoRoute":
          return Effect.fail(unreachable(destination, resolution.reason))
        case "Waiting":
          return Effect.andThen(
            flushNow(),
            Effect.callback<void, StackUnreachable>((callback) => {
              resume = callback
              return Effect.sync(resolution.cancel)
            }),
          )
      }
    }
    const sendNow = (destination: Ipv4, protocol: number, length: number, write: PayloadWriter): Effect.Effect<void, StackUnreachable | StackDeviceFailed> =>
      inline(() => engine.send(destination, protocol, length, write))
        ? flushNow()
        : Effect.fail(unreachable(destination, "the queue of packets waiting for ARP is full"))

    return IpLayer.of({
      cidr: settings.cidr,
      gateway: settings.gateway,
      sender: engine.sender,
      register: (protocol) => Effect.asVoid(Effect.acquireRelease(Effect.sync(() => engine.register(protocol)), (unregister) => Effect.sync(unregister))),
      observeIcmp: (observer) => Effect.asVoid(Effect.acquireRelease(Effect.sync(() => engine.observeIcmp(observer)), (stop) => Effect.sync(stop))),
      unreachable: (code) => engine.unreachable(code),
      resolve: (destination) => Effect.suspend(() => resolveNow(destination) ?? Effect.void),
      transmit: (destination, protocol, length, write) =>
        Effect.suspend(() => {
          const waiting = resolveNow(destination)
          return waiting === undefined
            ? sendNow(destination, protocol, length, write)
            : Effect.andThen(waiting, Effect.suspend(() => sendNow(destination, protocol, length, write)))
        }),
      stats: Effect.sync(() => ({ ip: { ...engine.stats }, arp: { ...engine.arp.stats }, reassembly: { ...engine.reassembly.stats } })),
    })
  }).pipe(Log.withSource("ipv4")))
