/**
 * The IPv4 layer's Effect shell over a hand-made `Netif`: how a received
 * batch's handling and the writes of what it sends interleave, with a device
 * that writes in an effect (`writeBatch`) or at once (`writeNow`); batches
 * a device hands over at once (`takeNow`), handled in its callback, and the
 * order kept when one of them must wait for the device; and how a device
 * lost in a write fails what is sent after.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Layer, Queue, Stream } from "effect"
import { IpLayer, layerIp } from "../../../src/net/direct/IpLayer.ts"
import { StackDeviceFailed } from "../../../src/net/Stack.ts"
import { Netif, NetifDisconnected } from "../../../src/net/Netif.ts"
import type { FrameBatch } from "../../../src/net/Netif.ts"
import { ipv4, macToBytes } from "../../../src/net/wire/addr.ts"
import * as Ethernet from "../../../src/net/wire/ethernet.ts"
import * as Ipv4Wire from "../../../src/net/wire/ipv4.ts"

const US_MAC = 0x02000000000a
const PEER_MAC = 0x02000000000b
const PEER = ipv4(10, 0, 0, 3)

/** A frame from the peer to 10.0.0.2 carrying a one-byte packet of protocol 77. */
const frame = (n: number) => {
  const bytes = new Uint8Array(35)
  Ethernet.emit({ destination: US_MAC, source: PEER_MAC, etherType: Ethernet.EtherType.Ipv4 }, bytes)
  bytes[34] = n
  Ipv4Wire.emit({ identification: n, ttl: 64, protocol: 77, source: PEER, destination: ipv4(10, 0, 0, 2), payloadLength: 1 }, bytes, 14)
  return bytes
}

/** How the hand-made device writes: in an effect, at once, or in part at once and the rest after a yield. */
type Writes = "writeBatch" | "writeNow" | "writeNow, then waiting"

/** The IPv4 layer at 10.0.0.2 over `netif`, with the peer's MAC known. */
const ipOver = (netif: Netif["Service"]) =>
  Effect.map(
    Layer.build(layerIp({
      cidr: "10.0.0.2/24",
      staticArp: [{ address: "10.0.0.3", mac: "02:00:00:00:00:0b" }],
    }).pipe(Layer.provide(Layer.succeed(Netif, netif)))),
    (context) => Context.get(context, IpLayer),
  )

/**
 * Plugs in protocol 77 on `ip`: each packet's first byte n goes to `handled`
 * and is answered with a packet of n + 100, pushed after the packets in
 * `pushAfter` (as TCP pushes an ACK the sender waits on).
 */
const replying = (ip: IpLayer["Service"], handled: Array<number>, pushAfter: ReadonlyArray<number>) =>
  ip.register({
    protocol: 77,
    input: (_source, _destination, packet, start) => {
      const n = packet[start]!
      handled.push(n)
      ip.sender.send(PEER, 77, 1, (buffer, offset) => void (buffer[offset] = n + 100))
      if (pushAfter.includes(n)) ip.sender.push!()
    },
    beginBatch: () => {},
    endBatch: () => {},
  })

describe("IPv4 layer", () => {
  for (const style of ["writeBatch", "writeNow", "writeNow, then waiting"] satisfies Array<Writes>) {
    it.effect(`writes what a transport pushed in the middle of a batch before handling the rest of it (device: ${style})`, () =>
      Effect.gen(function* () {
        const handled: Array<number> = []
        /** For each write: the frames' first payload bytes, and how many packets had been handled by then. */
        const writes: Array<{ replies: Array<number>; handled: number }> = []
        const released = yield* Deferred.make<FrameBatch>()
        const lastReply = yield* Deferred.make<void>()
        const go = yield* Deferred.make<void>()
        const batch: FrameBatch = [1, 2, 3, 4].map(frame)
        const record = (frames: ReadonlyArray<Uint8Array>) => {
          writes.push({ replies: frames.map((f) => f[34]!), handled: handled.length })
          if (frames.some((f) => f[34] === 104)) Deferred.doneUnsafe(lastReply, Effect.void)
        }
        const netif = Netif.of({
          mac: macToBytes(US_MAC),
          mtu: 1500,
          frames: Stream.concat(Stream.fromEffect(Effect.as(Deferred.await(go), batch)), Stream.never),
          release: (b) => Deferred.doneUnsafe(released, Effect.succeed(b)),
          writeBatch: (frames) => Effect.sync(() => record(frames)),
          ...(style === "writeBatch" ? {} : {
            writeNow: (frames) => {
              if (style === "writeNow") return void record(frames)
              // The first frame at once, the rest once the device has room again (as a TAP after EAGAIN).
              record(frames.slice(0, 1))
              return Effect.andThen(Effect.yieldNow, Effect.sync(() => record(frames.slice(1))))
            },
          }),
          write: () => Effect.void,
          stats: Effect.die("unused"),
        })
        const ip = yield* ipOver(netif)
        yield* replying(ip, handled, [2])
        yield* Deferred.succeed(go, undefined)
        yield* Deferred.await(lastReply)
        expect(yield* Deferred.await(released)).toBe(batch) // handed back once all of it was handled
        expect(handled).toEqual([1, 2, 3, 4])
        const replies = writes.filter((w) => w.replies.some((r) => r > 100))
        expect(replies).toEqual(
          style === "writeNow, then waiting"
            ? [{ replies: [101], handled: 2 }, { replies: [102], handled: 2 }, { replies: [103], handled: 4 }, { replies: [104], handled: 4 }]
            : [{ replies: [101, 102], handled: 2 }, { replies: [103, 104], handled: 4 }],
        )
      }))
  }

  it.effect("handles a batch handed over at once in the device's callback, and keeps batches in order when one must wait for the device", () =>
    Effect.gen(function* () {
      const handled: Array<number> = []
      const released: Array<Array<number>> = []
      const writes: Array<Array<number>> = []
      const room = yield* Deferred.make<void>()
      const lastReply = yield* Deferred.make<void>()
      const queued = yield* Queue.unbounded<FrameBatch>()
      let take: ((batch: FrameBatch) => void) | undefined
      const netif = Netif.of({
        mac: macToBytes(US_MAC),
        mtu: 1500,
        frames: Stream.fromQueue(queued),
        release: (b) => void released.push(b.map((f) => f[34]!)),
        takeNow: (taker) => Effect.acquireRelease(Effect.sync(() => void (take = taker)), () => Effect.sync(() => void (take = undefined))),
        writeBatch: () => Effect.die("the layer writes with writeNow"),
        writeNow: (frames) => {
          const replies = frames.map((f) => f[34]!).filter((r) => r > 100)
          if (replies.length === 0) return undefined
          const record = () => {
            writes.push(replies)
            if (replies.includes(105)) Deferred.doneUnsafe(lastReply, Effect.void)
          }
          // The device has no room for the replies to 11 and 12 until the test gives it some (as a TAP after EAGAIN).
          if (!replies.includes(111)) return void record()
          return Effect.andThen(Deferred.await(room), Effect.sync(record))
        },
        write: () => Effect.void,
        stats: Effect.die("unused"),
      })
      const ip = yield* ipOver(netif)
      yield* replying(ip, handled, [2, 12])
      // Handled and handed back within the call, its replies written.
      take!([1, 2, 3].map(frame))
      expect(handled).toEqual([1, 2, 3])
      expect(released).toEqual([[1, 2, 3]])
      expect(writes).toEqual([[101, 102], [103]])
      // The pushed replies must wait: the rest of the batch waits with them, and so does the next batch.
      take!([11, 12, 13, 14].map(frame))
      expect(handled).toEqual([1, 2, 3, 11, 12])
      expect(released).toEqual([[1, 2, 3]])
      yield* Queue.offer(queued, [5].map(frame)) // as the device does while a batch is not handed back
      yield* Effect.yieldNow
      expect(handled).toEqual([1, 2, 3, 11, 12])
      yield* Deferred.succeed(room, undefined)
      yield* Deferred.await(lastReply)
      expect(handled).toEqual([1, 2, 3, 11, 12, 13, 14, 5])
      expect(released).toEqual([[1, 2, 3], [11, 12, 13, 14], [5]])
      expect(writes).toEqual([[101, 102], [103], [111, 112], [113, 114], [105]])
    }))

  it.effect("fails what is sent once a write at once found the device gone", () =>
    Effect.gen(function* () {
      const lost = new NetifDisconnected({ device: "tap9", reason: "the interface was deleted" })
      const netif = Netif.of({
        mac: macToBytes(US_MAC),
        mtu: 1500,
        frames: Stream.never,
        writeBatch: () => Effect.die("the layer writes with writeNow"),
        writeNow: () => Effect.fail(lost),
        write: () => Effect.void,
        stats: Effect.die("unused"),
      })
      const ip = yield* ipOver(netif)
      const send = ip.transmit(PEER, 77, 1, (buffer, offset) => void (buffer[offset] = 1))
      const first = yield* Effect.flip(send)
      expect(first).toBeInstanceOf(StackDeviceFailed)
      expect(first.reason).toContain("the interface was deleted")
      expect(yield* Effect.flip(send)).toBe(first) // later sends fail the same way, without writing
    }))
})
