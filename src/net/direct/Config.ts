/**
 * The direct stack's IPv4 configuration, as text (what `--ipv4` and
 * `--ipv4-gateway` give) and checked into numbers once at start.
 */
import { Effect } from "effect"
import type { Ipv4, Ipv4Cidr, Mac } from "../wire/addr.ts"
import { formatCidr, inSubnet, parseCidr, parseIpv4, parseMac } from "../wire/addr.ts"
import type { ArpLimits } from "../engine/arp.ts"
import type { ReassemblyLimits } from "../engine/reassembly.ts"
import type { RateLimit } from "../engine/tokenBucket.ts"
import { StackInvalidArgument } from "../Stack.ts"

/** A static ARP entry: it never expires and wins over what is learned. */
export interface StaticArpEntry {
  /** `10.0.0.1` */
  readonly address: string
  /** `02:00:00:00:00:01` */
  readonly mac: string
}

/** How the direct stack is configured. */
export interface Ipv4Config {
  /** Our address and prefix, `10.0.0.2/24` (MirageOS's default). */
  readonly cidr: string
  /** The router for destinations outside the subnet, `10.0.0.1`; none by default. */
  readonly gateway?: string | undefined
  readonly staticArp?: ReadonlyArray<StaticArpEntry>
  readonly arp?: Partial<ArpLimits>
  readonly reassembly?: Partial<ReassemblyLimits>
  /** The rate of ICMP errors the stack sends (1000 a second, 50 at once, by default). */
  readonly icmpErrors?: Partial<RateLimit>
  /**
   * Path MTU discovery (RFC 1191): TCP packets carry Don't Fragment and a
   * router's "fragmentation needed" shrinks the segments to that host. True
   * by default, as on Linux; false lets routers fragment them instead (for a
   * path whose routers' ICMP errors are filtered).
   */
  readonly pathMtuDiscovery?: boolean
  /**
   * Software TCP segmentation (Linux's GSO): on a link that does not segment
   * TCP itself, TCP sends bursts of up to 64 KiB that are cut into MTU-sized
   * segments just before the device, so a burst costs one pass through TCP
   * instead of one per segment; the wire sees the same segments. True by
   * default, as on Linux; false sends one segment at a time.
   */
  readonly softwareSegmentation?: boolean
}

/** MirageOS's defaults: `10.0.0.2/24`, no gateway. */
export const defaultIpv4Config: Ipv4Config = { cidr: "10.0.0.2/24" }

/** A checked configuration. */
export interface Ipv4Settings {
  readonly cidr: Ipv4Cidr
  readonly gateway: Ipv4 | undefined
  readonly staticArp: ReadonlyMap<Ipv4, Mac>
  readonly arp: Partial<ArpLimits>
  readonly reassembly: Partial<ReassemblyLimits>
  readonly icmpErrors: Partial<RateLimit>
  readonly pathMtuDiscovery: boolean
  readonly softwareSegmentation: boolean
}

const invalid = (reason: string) => Effect.fail(new StackInvalidArgument({ reason }))

/** Check a configuration; a bad one fails naming the value and the expected form. */
export const parseIpv4Config = (config: Ipv4Config): Effect.Effect<Ipv4Settings, StackInvalidArgument> =>
  Effect.suspend(() => {
    const cidr = parseCidr(config.cidr)
    if (cidr._tag === "Rejected") return invalid(`--ipv4=${config.cidr} is not an address with a prefix: use the form 10.0.0.2/24`)
    if (cidr.prefixLength < 31 && (cidr.address === cidr.network || cidr.address === cidr.broadcast)) {
      return invalid(`--ipv4=${config.cidr} is the network or broadcast address of its subnet: use a host address such as ${formatCidr({ ...cidr, address: cidr.network + 2 })}`)
    }
    let gateway: Ipv4 | undefined
    if (config.gateway !== undefined && config.gateway !== "") {
      const parsed = parseIpv4(config.gateway)
      if (typeof parsed !== "number") return invalid(`--ipv4-gateway=${config.gateway} is not an IPv4 address: use the form 10.0.0.1`)
      if (!inSubnet(cidr, parsed) || parsed === cidr.address) {
        return invalid(`--ipv4-gateway=${config.gateway} is not another host of ${config.cidr}: give a router inside the subnet`)
      }
      gateway = parsed
    }
    const staticArp = new Map<Ipv4, Mac>()
    for (const entry of config.staticArp ?? []) {
      const address = parseIpv4(entry.address)
      const mac = parseMac(entry.mac)
      if (typeof address !== "number" || typeof mac !== "number") {
        return invalid(`static ARP entry ${entry.address} → ${entry.mac} is malformed: use { address: "10.0.0.1", mac: "02:00:00:00:00:01" }`)
      }
      staticArp.set(address, mac)
    }
    for (const [field, value] of Object.entries(config.icmpErrors ?? {})) {
      if (!(typeof value === "number" && value >= 0 && Number.isFinite(value))) {
        return invalid(`icmpErrors.${field}=${String(value)} is not a rate: give a finite number of ICMP errors, 0 or more`)
      }
    }
    const pathMtuDiscovery = config.pathMtuDiscovery ?? true
    const softwareSegmentation = config.softwareSegmentation ?? true
    for (const [name, value] of [["pathMtuDiscovery", pathMtuDiscovery], ["softwareSegmentation", softwareSegmentation]] as const) {
      if (typeof value !== "boolean") return invalid(`${name}=${String(value)} is not a boolean: give true (the default) or false`)
    }
    return Effect.succeed({
      cidr,
      gateway,
      staticArp,
      arp: config.arp ?? {},
      reassembly: config.reassembly ?? {},
      icmpErrors: config.icmpErrors ?? {},
      pathMtuDiscovery,
      softwareSegmentation,
    })
  })
