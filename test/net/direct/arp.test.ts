/** The ARP engine: learning rules, replies, static entries, bounds, timeouts and retries. */
import { describe, expect, it } from "vitest"
import { ArpEngine } from "../../../src/net/engine/arp.ts"
import { ipv4 } from "../../../src/net/wire/addr.ts"
import type { Packet } from "../../../src/net/wire/arp.ts"

const OUR_MAC = 0x020000000001
const US = ipv4(10, 0, 0, 2)
const PEER = ipv4(10, 0, 0, 3)
const PEER_MAC = 0x020000000003

const packet = (operation: number, senderIp: number, senderMac: number, targetIp: number, targetMac = 0): Packet =>
  ({ _tag: "ArpPacket", operation, senderIp, senderMac, targetIp, targetMac })

const engine = (limits = {}, staticEntries = new Map<number, number>()) =>
  new ArpEngine<string>({ mac: OUR_MAC, addresses: [US], staticEntries, limits })

describe("ARP engine", () => {
  it("answers requests for our address only, learning the asker", () => {
    const arp = engine()
    const answer = arp.input(packet(1, PEER, PEER_MAC, US), 0)
    expect(answer.reply).toEqual({ operation: 2, senderMac: OUR_MAC, senderIp: US, targetMac: PEER_MAC, targetIp: PEER })
    expect(arp.lookup(PEER, 0)).toBe(PEER_MAC)
    const other = engine()
    expect(other.input(packet(1, PEER, PEER_MAC, ipv4(10, 0, 0, 9)), 0).reply).toBeUndefined()
    expect(other.lookup(PEER, 0)).toBeUndefined() // not for us and unknown: not learned (RFC 826 merge rule)
  })

  it("updates a known sender from any packet, ignores bogus senders", () => {
    const arp = engine()
    arp.input(packet(1, PEER, PEER_MAC, US), 0)
    arp.input(packet(1, PEER, 0x020000000033, PEER), 1) // the peer's gratuitous ARP with a new MAC
    expect(arp.lookup(PEER, 1)).toBe(0x020000000033)
    arp.input(packet(2, ipv4(10, 0, 0, 4), 0xffffffffffff, US), 1) // broadcast sender MAC
    arp.input(packet(2, US, 0x020000000044, US), 1) // someone claims our address
    expect(arp.size).toBe(1)
  })

  it("static entries win and never expire", () => {
    const arp = engine({ entryTimeoutMs: 1000 }, new Map([[PEER, 0x02000000beef]]))
    arp.input(packet(1, PEER, PEER_MAC, US), 0)
    expect(arp.lookup(PEER, 10 ** 9)).toBe(0x02000000beef)
  })

  it("expires learned entries and evicts the oldest beyond the bound", () => {
    const arp = engine({ maxEntries: 2, entryTimeoutMs: 1000 })
    for (const host of [3, 4, 5]) arp.input(packet(1, ipv4(10, 0, 0, host), 0x020000000000 + host, US), host)
    expect(arp.size).toBe(2)
    expect(arp.stats.evicted).toBe(1)
    expect(arp.lookup(ipv4(10, 0, 0, 3), 5)).toBeUndefined()
    expect(arp.lookup(ipv4(10, 0, 0, 4), 1003)).toBe(0x020000000004)
    expect(arp.lookup(ipv4(10, 0, 0, 4), 1004)).toBeUndefined()
  })

  it("queues items while resolving, retries, and gives them back on the reply or on timeout", () => {
    const arp = engine({ attempts: 3, retryIntervalMs: 1000, maxWaiting: 2 })
    const first = arp.enqueue(PEER, "a", 0)
    expect(first.request).toMatchObject({ operation: 1, senderIp: US, targetIp: PEER })
    expect(arp.enqueue(PEER, "b", 0)).toEqual({ accepted: true, request: undefined })
    expect(arp.enqueue(PEER, "c", 0).accepted).toBe(false)
    expect(arp.nextDeadline()).toBe(1000)
    expect(arp.tick(999).requests).toHaveLength(0)
    expect(arp.tick(1000).requests).toHaveLength(1)
    const reply = arp.input(packet(2, PEER, PEER_MAC, US, OUR_MAC), 1500)
    expect(reply.resolved).toEqual({ address: PEER, mac: PEER_MAC, waiting: ["a", "b"] })
    expect(arp.nextDeadline()).toBeUndefined()

    const lost = ipv4(10, 0, 0, 99)
    arp.enqueue(lost, "x", 0)
    expect(arp.tick(1000).requests).toHaveLength(1)
    expect(arp.tick(2000).requests).toHaveLength(1)
    expect(arp.tick(3000)).toEqual({ requests: [], failed: [{ address: lost, waiting: ["x"] }] })
    expect(arp.stats).toMatchObject({ timedOut: 1, requestsSent: 5 })
  })

  it("announces our address with a gratuitous request", () => {
    expect(engine().announce()).toEqual([{ operation: 1, senderMac: OUR_MAC, senderIp: US, targetMac: 0, targetIp: US }])
  })
})
