import { describe, expect, it } from "vitest"
import type { Connection } from "../../../src/net/tcp/connection.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import { UnreachableCode } from "../../../src/net/wire/icmpv4.ts"
import { drain, establish } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"
import type { Host } from "./sim.ts"
import { pattern } from "./transfer.ts"

const ROUTER = ipv4(10, 0, 0, 254)

/** The first 8 bytes of a segment of `c` with sequence number `seq`, as an ICMP error quotes them. */
const quote = (c: Connection, seq: number): Uint8Array => {
  const bytes = new Uint8Array(8)
  const view = new DataView(bytes.buffer)
  view.setUint16(0, c.localPort)
  view.setUint16(2, c.remotePort)
  view.setUint32(4, seq >>> 0)
  return bytes
}

/** A client on A whose SYN to B:80 goes nowhere: it stays in SYN-SENT. */
const opening = () => {
  const sim = new Sim(81, clean)
  sim.filter = () => false
  const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
  if (typeof client === "string") throw new Error(client)
  return { sim, client }
}

/** `ROUTER`'s destination unreachable of `code` to `host` about a segment of its connection `c` with sequence number `seq` (and the `mtu` a "fragmentation needed" announces). */
const tell = (host: Host, c: Connection, code: number, seq = c.iss, mtu = 0) =>
  host.engine.icmpUnreachable(c.localAddress, c.remoteAddress, quote(c, seq), code, ROUTER, 0, mtu)

describe("ICMP destination unreachable for TCP", () => {
  it("a port or protocol unreachable answering our SYN refuses the connection at once", () => {
    for (const code of [UnreachableCode.Port, UnreachableCode.Protocol]) {
      const { sim, client } = opening()
      tell(sim.a, client, code)
      expect([client.state, client.closeReason]).toEqual(["CLOSED", "refused"])
    }
  })

  it("a host, network or prohibited unreachable answering our SYN ends it as unreachable, saying why and who said so", () => {
    const { sim, client } = opening()
    tell(sim.a, client, UnreachableCode.AdministrativelyProhibited)
    expect([client.state, client.closeReason]).toEqual(["CLOSED", "unreachable"])
    expect(client.unreachableBecause).toBe("administratively prohibited (ICMP from 10.0.0.254)")
    const other = opening()
    tell(other.sim.a, other.client, UnreachableCode.Host)
    expect(other.client.unreachableBecause).toMatch(/^host unreachable/)
  })

  it("ignores errors that do not quote the SYN in flight, fragmentation needed, and keeps an established connection up", () => {
    const { sim, client } = opening()
    tell(sim.a, client, UnreachableCode.Port, client.iss + 1)
    tell(sim.a, client, UnreachableCode.Port, client.iss - 1000)
    tell(sim.a, client, UnreachableCode.FragmentationNeeded)
    expect(client.state).toBe("SYN-SENT")

    const established = new Sim(82, clean)
    const pair = establish(established)
    tell(established.a, pair.client, UnreachableCode.Port, pair.client.sndUna)
    tell(established.a, pair.client, UnreachableCode.Host, pair.client.sndUna)
    expect(pair.client.state).toBe("ESTABLISHED")
  })

  it("a half-open connection is dropped on a hard error quoting its SYN-ACK, freeing its place in the SYN queue", () => {
    const sim = new Sim(85, clean)
    const listener = sim.b.engine.listen(80)
    if (typeof listener === "string") throw new Error(listener)
    sim.filter = (from) => from !== sim.b // B's SYN-ACKs go nowhere: its connections stay half-open
    const clients = [0, 1, 2].map(() => sim.a.engine.connect(sim.b.address, 80, sim.now) as Connection)
    sim.advance(50)
    expect(listener.halfOpen).toBe(3)
    const [first, second, third] = clients.map((c) => sim.b.engine.find(c.remoteAddress, c.remotePort, c.localAddress, c.localPort))
    tell(sim.b, first!, UnreachableCode.Host) // soft: stays
    tell(sim.b, second!, UnreachableCode.Port, second!.iss + 1) // not its SYN-ACK: stays
    tell(sim.b, third!, UnreachableCode.AdministrativelyProhibited)
    expect([first!.state, second!.state, third!.state]).toEqual(["SYN-RECEIVED", "SYN-RECEIVED", "CLOSED"])
    expect(listener.halfOpen).toBe(2)
  })

  it("an established connection that times out after a host unreachable about its data ends as unreachable, saying so", () => {
    const sim = new Sim(83, clean, { maxRetransmissions: 3 })
    const { client } = establish(sim)
    sim.filter = (from) => from !== sim.a // the path from A is cut
    client.send(new Uint8Array(1000), sim.now)
    sim.advance(100)
    tell(sim.a, client, UnreachableCode.Host, client.sndUna)
    tell(sim.a, client, UnreachableCode.Port, client.sndUna - 5000) // not about data in flight: ignored
    expect(client.state).toBe("ESTABLISHED")
    sim.run(() => client.state === "CLOSED", () => {}, 600_000)
    expect(client.closeReason).toBe("unreachable")
    expect(client.unreachableBecause).toBe("host unreachable (ICMP from 10.0.0.254); transfer gave up")
  })

  it("forgets the error once the peer acknowledges new data: a later timeout is a timeout", () => {
    const sim = new Sim(84, clean, { maxRetransmissions: 3 })
    const { client } = establish(sim)
    client.send(new Uint8Array(1000), sim.now)
    tell(sim.a, client, UnreachableCode.Host, client.sndUna)
    sim.run(() => client.flight === 0, () => {}, 10_000)
    sim.filter = (from) => from !== sim.a
    client.send(new Uint8Array(1000), sim.now)
    sim.run(() => client.state === "CLOSED", () => {}, 600_000)
    expect(client.closeReason).toBe("timeout")
  })
})

describe("ICMP fragmentation needed: path MTU discovery (RFC 1191)", () => {
  /** A router with a 1280-byte next hop between A and B: A's larger packets are dropped, and A told about each. */
  const narrowPath = (sim: Sim, client: Connection) => {
    const tooBig: Array<number> = []
    sim.filter = (from, seg) => {
      if (from !== sim.a || 20 + seg.headerLength + seg.payload.length <= 1280) return true
      tooBig.push(seg.sequenceNumber)
      return false
    }
    /** Delivers the router's errors (after the send that caused them, as a real one would arrive). */
    const deliver = () => {
      for (let seq = tooBig.shift(); seq !== undefined; seq = tooBig.shift()) {
        sim.a.engine.icmpUnreachable(client.localAddress, client.remoteAddress, quote(client, seq), UnreachableCode.FragmentationNeeded, ROUTER, sim.now, 1280)
      }
    }
    return deliver
  }

  it("cuts the segments to the path and resends what was in flight at once: the transfer completes, the window untouched", () => {
    const sim = new Sim(86, clean)
    const { client, server } = establish(sim)
    const deliver = narrowPath(sim, client)
    const data = pattern(200_000, 11)
    client.send(data, sim.now)
    const start = sim.now
    sim.run(() => client.flight === 0 && !client.sendWaiting, deliver)
    expect(sim.now - start).toBeLessThan(200) // no retransmission timeout
    expect(client.sndMss).toBe(1280 - 40 - 12) // IPv4, TCP and timestamps
    expect(client.retries).toBe(0)
    expect(client.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER)
    expect(Buffer.compare(drain(server, sim.now), data)).toBe(0)
    // The path MTU is the host's: a new connection to it starts with segments that fit.
    const next = establish(sim, 81).client
    expect(next.sndMss).toBe(1280 - 40 - 12)
  })

  it("believes only errors quoting a segment in flight, and no path MTU below 552 bytes", () => {
    const sim = new Sim(87, clean)
    const { client } = establish(sim)
    const tell = (seq: number, mtu: number) =>
      sim.a.engine.icmpUnreachable(client.localAddress, client.remoteAddress, quote(client, seq), UnreachableCode.FragmentationNeeded, ROUTER, sim.now, mtu)
    const full = client.sndMss
    tell(client.sndNxt, 1000) // nothing in flight: a blind guess
    tell(client.sndUna - 5000, 1000)
    expect(client.sndMss).toBe(full)
    sim.filter = () => false // what is sent stays in flight
    client.send(pattern(10_000, 12), sim.now)
    tell(client.sndUna, 300)
    expect(client.sndMss).toBe(552 - 40 - 12)
  })
})
