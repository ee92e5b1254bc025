/**
 * Real attack tools against our TCP over a TAP, in a namespace the test
 * creates: nmap's scans (SYN, FIN, NULL, Xmas, ACK, fragmented SYN, OS
 * detection) must see exactly the ports we listen on, as RFC 9293 has a host
 * answer each probe; an hping3 SYN flood from random sources must keep the
 * half-open connections within the SYN queue's bound while clients still
 * get through on SYN cookies; nmap's idle scan must not be able to use us as
 * its zombie (our IPv4 identifications tell nothing of what we send to other
 * hosts); a UDP probe flood must draw ICMP errors at the rate limit, not one
 * each. Skipped, with the reason printed, without root, /dev/net/tun, the
 * addon, nc, nmap or hping3.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ip, scratchNamespace, sysctl, toolSkipReason, vethPair } from "../netif/netns.ts"
import { directOnTap, echo, KERNEL, listening, peer, peerReport, spawnIn, tcpKernelSkipReason, US } from "./kernel.ts"

const reason = tcpKernelSkipReason() ?? toolSkipReason("nmap", "nmap") ?? toolSkipReason("hping3", "hping3")
if (reason !== undefined) console.log(`skipping TCP tests against nmap and hping3: ${reason}`)

/** The ports we listen on (each echoes), and the ports scanned. */
const OPEN = [80, 443, 8080]
const SCANNED = "75-85,443,8080"
const scannedPorts = [...Array.from({ length: 11 }, (_, i) => 75 + i), 443, 8080]

/** Port → state from nmap's grepable output (`-oG -`). */
const portStates = (grepable: string): Map<number, string> => {
  const states = new Map<number, string>()
  const ports = /Ports: ([^\t\n]*)/.exec(grepable)?.[1] ?? ""
  for (const entry of ports.split(", ")) {
    const [port, state] = entry.split("/")
    if (port !== undefined && state !== undefined && port !== "") states.set(Number(port), state)
  }
  return states
}

/** The state every scanned port should show: `open` for ours, `closed` for the rest. */
const expected = (open: string, closed: string) => new Map(scannedPorts.map((port) => [port, OPEN.includes(port) ? open : closed]))

/** A direct stack echoing on `OPEN`, its TCP configured by `config`, routing beyond its subnet through `gateway`. */
const echoStack = (config: { readonly synQueue?: number } = {}, gateway?: string) =>
  Effect.gen(function* () {
    const world = yield* directOnTap({ config }, true, gateway === undefined ? {} : { gateway })
    for (const port of OPEN) yield* world.stack.tcp.listen(port, echo)
    return world
  })

/** `nc` from the namespace to our port 8080: what it got back. */
const echoed = (ns: string, text: string) =>
  Effect.flatMap(spawnIn(ns, "sh", ["-c", `printf '${text}' | nc -N -w 5 ${US} 8080`]), (nc) => nc.exited)

describe.skipIf(reason !== undefined)("TCP against nmap and hping3 (root, network namespace)", () => {
  it.live("nmap's SYN, FIN, NULL, Xmas, ACK and fragmented scans see exactly our listening ports, and bad checksums get no answer", () =>
    Effect.gen(function* () {
      const { ns, engine } = yield* echoStack()
      const scan = (...args: Array<string>) =>
        Effect.flatMap(spawnIn(ns, "nmap", [...args, "-Pn", "-n", "-p", SCANNED, "-oG", "-", US]), (p) => Effect.map(p.exited, portStates))
      expect(yield* scan("-sS")).toEqual(expected("open", "closed"))
      expect(yield* scan("-sS", "-f")).toEqual(expected("open", "closed"))
      // RFC 9293 §3.10.7.2: a listening port drops segments without SYN, ACK or RST; a closed one resets them.
      for (const kind of ["-sF", "-sN", "-sX"]) expect(yield* scan(kind)).toEqual(expected("open|filtered", "closed"))
      expect(yield* scan("-sA")).toEqual(expected("unfiltered", "unfiltered"))
      // Probes with bad TCP checksums are dropped unanswered, open port or closed.
      const rejectedBefore = engine.stats.segmentsRejected
      expect(yield* scan("-sS", "--badsum")).toEqual(expected("filtered", "filtered"))
      expect(engine.stats.segmentsRejected - rejectedBefore).toBeGreaterThanOrEqual(scannedPorts.length)
      expect(yield* echoed(ns, "still serving")).toBe("still serving")
    }).pipe(Effect.scoped), 60_000)

  it.live("nmap's OS detection probes get answers and leave the stack serving", () =>
    Effect.gen(function* () {
      const { ns } = yield* echoStack()
      const os = yield* Effect.flatMap(spawnIn(ns, "nmap", ["-O", "-Pn", "-n", "-p", "80,81", US]), (p) => p.exited)
      expect(os).toMatch(/80\/tcp\s+open/)
      expect(os).toMatch(/81\/tcp\s+closed/)
      // The fingerprint's probes of an open port without SYN (T2, T3) go unanswered, as on Linux.
      expect(os).toMatch(/T2\(R=N\)/)
      expect(os).toMatch(/T3\(R=N\)/)
      expect(yield* echoed(ns, "after nmap -O")).toBe("after nmap -O")
    }).pipe(Effect.scoped), 60_000)

  it.live("an hping3 SYN flood from random sources stays within the SYN queue, and clients get through on cookies", () =>
    Effect.gen(function* () {
      const synQueue = 64
      // Through the kernel side as gateway, our SYN-ACKs to the flood's made-up sources go nowhere and get no answer.
      const { ns, engine } = yield* echoStack({ synQueue }, KERNEL)
      // 50,000 SYNs a second at most, which the stack keeps up with here (hping3 --flood outruns it, and the
      // TAP then drops clients' segments too).
      yield* spawnIn(ns, "hping3", ["-q", "-S", "-p", "8080", "-i", "u20", "--rand-source", US])
      let most = 0
      const sample = setInterval(() => (most = Math.max(most, engine.connectionCount)), 20)
      yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(sample)))
      // The queue has long been full and the flood answered with cookies before the clients come.
      while (engine.stats.synCookiesSent < 1000) yield* Effect.sleep("20 millis")
      // 20 clients at once, each echoed.
      const clients = yield* peerReport(yield* peer(ns, "echo-connect", US, 8080, 20))
      expect(clients.bytes).toBe(20)
      expect(engine.stats.synCookiesAccepted).toBe(20)
      expect(most).toBeLessThanOrEqual(synQueue + 20)
    }).pipe(Effect.scoped), 60_000)

  it.live("nmap cannot make us the zombie of an idle scan: our IP IDs tell nothing of what we send to other hosts", () =>
    Effect.gen(function* () {
      // The kernel side routes between us, a scanner and a target, each in a namespace of its own.
      const { ns } = yield* echoStack({}, KERNEL)
      const { ns: scanner } = yield* scratchNamespace
      const { ns: target } = yield* scratchNamespace
      vethPair({ ns, address: "10.77.6.1" }, { ns: scanner, address: "10.77.6.2" }, ["vs0", "vs1"])
      vethPair({ ns, address: "10.77.7.1" }, { ns: target, address: "10.77.7.2" }, ["vt0", "vt1"])
      ip("-n", scanner, "route", "add", "default", "via", "10.77.6.1")
      ip("-n", target, "route", "add", "default", "via", "10.77.7.1")
      // Forwarding on, and the scanner's packets spoofed with our address or the target's let through.
      sysctl(ns, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.vs0.rp_filter=0")
      yield* spawnIn(target, "nc", ["-lk", "10.77.7.2", "22"])
      yield* listening(target, 22)
      const scan = yield* spawnIn(scanner, "sh", ["-c", `nmap -sI ${US}:80 -Pn -n -p 22,23 10.77.7.2 2>&1; true`])
      const out = yield* scan.exited
      // nmap took us for a zombie (our IDs to it increase), yet learnt nothing about the target's open port 22.
      expect(out).toMatch(/Idle scan using zombie 10\.77\.5\.2.*Class: Incremental/)
      expect(out).not.toMatch(/22\/tcp\s+open/)
      expect(out).toMatch(/separate IP ID base for each host/)
    }).pipe(Effect.scoped), 60_000)

  it.live("an hping3 UDP flood to a closed port draws ICMP errors at the rate limit (50 at once, 1000 a second), not one each", () =>
    Effect.gen(function* () {
      const { ns } = yield* echoStack()
      const started = performance.now()
      const flood = yield* spawnIn(ns, "sh", ["-c", `hping3 -q --udp -p 9 -i u10 -c 5000 ${US} >/dev/null 2>&1; true`])
      yield* flood.exited
      const seconds = (performance.now() - started) / 1000
      const snmp = ip("netns", "exec", ns, "cat", "/proc/net/snmp").split("\n")
      const [names, values] = snmp.filter((line) => line.startsWith("Icmp:")).map((line) => line.split(/\s+/))
      const unreachables = Number(values![names!.indexOf("InDestUnreachs")])
      expect(unreachables).toBeGreaterThanOrEqual(50)
      console.log(`${unreachables} ICMP errors for 5000 probes in ${seconds.toFixed(2)} s`)
      expect(unreachables).toBeLessThanOrEqual(50 + 1000 * seconds)
      expect(unreachables).toBeLessThan(5000 / 2)
    }).pipe(Effect.scoped), 60_000)
})
