import { describe, expect, it } from "vitest"
import type { Connection } from "../../../src/net/tcp/connection.ts"
import { Flags } from "../../../src/net/wire/tcp.ts"
import { craft, establish, synFlood } from "./helpers.ts"
import { clean, Sim } from "./sim.ts"

describe("listeners: bounded SYN queue and backlog", () => {
  it("keeps a SYN flood within the SYN-queue bound, and still accepts a real client", () => {
    const sim = new Sim(61, clean, { synQueue: 64, backlog: 8 })
    const listener = sim.b.engine.listen(80)
    if (typeof listener === "string") throw new Error(listener)
    synFlood(sim, 80, 20_000, 99, () => expect(listener.halfOpen).toBeLessThanOrEqual(64))
    expect(sim.b.engine.connectionCount).toBeLessThanOrEqual(64)
    const client = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof client === "string") throw new Error(client)
    let server: Connection | undefined
    expect(sim.run(() => server?.state === "ESTABLISHED", () => {
      server ??= listener.accept()
    }, 10_000)).toBe(true)
    // The half-open flood entries time out and go away.
    sim.advance(600_000)
    expect(listener.halfOpen).toBe(0)
    expect(sim.b.engine.connectionCount).toBe(1)
  })

  it("bounds the accept backlog; a queued client completes once the application accepts", () => {
    const sim = new Sim(62, clean, { backlog: 2 })
    const { listener, server } = establish(sim, 80)
    expect(server.state).toBe("ESTABLISHED")
    const clients = [1, 2, 3].map(() => {
      const c = sim.a.engine.connect(sim.b.address, 80, sim.now)
      if (typeof c === "string") throw new Error(c)
      return c
    })
    sim.advance(100)
    expect(listener.pending).toBe(2)
    expect(listener.halfOpen).toBe(1)
    const accepted: Array<Connection> = []
    sim.run(() => accepted.length === 3, () => {
      for (let c = listener.accept(); c !== undefined; c = listener.accept()) accepted.push(c)
    }, 60_000)
    expect(accepted.every((c) => c.state === "ESTABLISHED")).toBe(true)
    expect(clients.every((c) => c.state === "ESTABLISHED")).toBe(true)
  })

  it("refuses a second listener on a port and resets unaccepted connections when it closes", () => {
    const sim = new Sim(63, clean)
    const { listener, client } = establish(sim, 80)
    expect(sim.b.engine.listen(80)).toBe("port-in-use")
    const late = sim.a.engine.connect(sim.b.address, 80, sim.now)
    if (typeof late === "string") throw new Error(late)
    sim.advance(100)
    sim.b.engine.unlisten(listener, sim.now)
    sim.advance(100)
    expect(late.closeReason).toBe("reset")
    expect(client.state).toBe("ESTABLISHED")
  })

  it("answers probes as RFC 9293 says: a listening port drops FIN, NULL, Xmas and SYN+FIN and resets ACKs; a closed port resets all", () => {
    const sim = new Sim(64, clean)
    const listener = sim.b.engine.listen(80)
    if (typeof listener === "string") throw new Error(listener)
    sim.record = true
    const probes = {
      fin: Flags.FIN,
      null: 0,
      xmas: Flags.FIN | Flags.PSH | Flags.URG,
      "syn+fin": Flags.SYN | Flags.FIN,
      rst: Flags.RST,
      ack: Flags.ACK,
      "syn+ack": Flags.SYN | Flags.ACK,
    }
    /** The flags of B's replies to one probe of `flags` to `port`. */
    const replies = (port: number, flags: number): Array<number> => {
      sim.b.sent.length = 0
      sim.inject(sim.b, sim.a.address, craft({
        sourcePort: 40000,
        destinationPort: port,
        sequenceNumber: 1000,
        acknowledgmentNumber: 5000,
        flags,
        window: 1024,
      }, sim.a.address, sim.b.address))
      return sim.b.sent.map((s) => s.flags)
    }
    const answers = (port: number) => Object.fromEntries(Object.entries(probes).map(([name, flags]) => [name, replies(port, flags)]))
    expect(answers(80)).toEqual({ fin: [], null: [], xmas: [], "syn+fin": [], rst: [], ack: [Flags.RST], "syn+ack": [Flags.RST] })
    expect(answers(81)).toEqual({
      fin: [Flags.RST | Flags.ACK],
      null: [Flags.RST | Flags.ACK],
      xmas: [Flags.RST | Flags.ACK],
      "syn+fin": [Flags.RST | Flags.ACK],
      rst: [],
      ack: [Flags.RST],
      "syn+ack": [Flags.RST],
    })
    expect(listener.halfOpen).toBe(0)
    expect(sim.b.engine.connectionCount).toBe(0)
  })
})
