/**
 * The network interfaces of a VM guest, as the image build, the init and the
 * guest layers name them: the launcher attaches one NIC per manifest device
 * that takes one (`--net=TAP` on hvt, a `vif` on Xen) and the guest kernel
 * calls them `eth0`, `eth1`… in that order. One NIC per unikernel for now.
 */

/** The guest kernel's name of the NIC at `index` in manifest order: 0 → `eth0`. */
export const nicName = (index: number): string => `eth${index}`

/** The guest's busybox, whose `ip` applet configures the NICs. */
export const guestBusybox = "/bin/busybox"
