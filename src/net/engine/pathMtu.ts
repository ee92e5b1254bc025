/**
 * Path MTUs learned from ICMP "fragmentation needed" (RFC 1191), one per
 * destination. A path MTU is never above the link's MTU nor below
 * `MIN_PATH_MTU`. It is forgotten after `PATH_MTU_LIFETIME_MS`, so that a
 * path that grew is found again (RFC 1191 §6.3). At most `MAX_PATHS` are
 * kept, the oldest dropped first.
 */
import type { Ipv4 } from "../wire/addr.ts"

/** The smallest path MTU believed, as Linux's `min_pmtu`: a forged ICMP error cannot shrink segments to nothing. */
export const MIN_PATH_MTU = 552
/** How long a learned path MTU holds (RFC 1191 §6.3 suggests ten minutes). */
export const PATH_MTU_LIFETIME_MS = 10 * 60 * 1000
/** Destinations whose path MTU is kept at once. */
const MAX_PATHS = 1024

/** RFC 1191 §7's table of common MTUs, for routers that do not give their next-hop MTU. */
const PLATEAUS = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]

/**
 * The MTU a "fragmentation needed" announces for a packet of `quotedLength`
 * bytes: the router's next-hop MTU, or, when the router gives none (0) or
 * one that the packet would fit, the plateau below the packet's length
 * (RFC 1191 §5, §7).
 */
export const announcedMtu = (nextHopMtu: number, quotedLength: number): number =>
  nextHopMtu >= 68 && nextHopMtu < quotedLength ? nextHopMtu : PLATEAUS.find((mtu) => mtu < quotedLength) ?? 68

/** The path MTUs of one interface whose link MTU is `linkMtu`. */
export class PathMtus {
  private readonly paths = new Map<Ipv4, { readonly mtu: number; readonly expires: number }>()
  private readonly linkMtu: number

  constructor(linkMtu: number) {
    this.linkMtu = linkMtu
  }

  /** The path MTU toward `destination` at `now`: the one learned, or the link's. */
  get(destination: Ipv4, now: number): number {
    const path = this.paths.get(destination)
    if (path === undefined) return this.linkMtu
    if (path.expires > now) return path.mtu
    this.paths.delete(destination)
    return this.linkMtu
  }

  /** Lower the path MTU toward `destination` to `mtu` (never below `MIN_PATH_MTU`); the path MTU it then has. */
  reduce(destination: Ipv4, mtu: number, now: number): number {
    const current = this.get(destination, now)
    const reduced = Math.max(MIN_PATH_MTU, Math.min(mtu, current))
    if (reduced === current) return current
    this.paths.delete(destination)
    if (this.paths.size >= MAX_PATHS) this.paths.delete(this.paths.keys().next().value!)
    this.paths.set(destination, { mtu: reduced, expires: now + PATH_MTU_LIFETIME_MS })
    return reduced
  }
}
