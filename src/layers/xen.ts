/**
 * The xen target: device layers for a unikernel booted by `xl create` as a
 * PVH guest. The guest is the same minimal Linux as hvt's, so the basic
 * devices are hvt's (the console is `hvc0`, the init's standard output);
 * disks are the blkfront devices `/dev/xvda`, `/dev/xvdb`…; the NIC is the
 * netfront `eth0` (a `vif` line of the `.xl`).
 */
import { Layer } from "effect"
import { guestBlock } from "./guest/Block.ts"
import { console, mclock, pclock, random, socketStack, time } from "./hvt.ts"

export { console, mclock, pclock, random, socketStack, time }

/** A Xen virtual disk, by its manifest name (`Target.block({ name })` in a generated entry point; the manifest device's `disk` names its host file). */
export const block = guestBlock("/dev/xvd")

/** Every basic device of the xen target. */
export const XenLive = /* @__PURE__ */ Layer.mergeAll(time, mclock, pclock, random, console)
