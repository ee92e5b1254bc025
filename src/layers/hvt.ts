/**
 * The hvt target: device layers for a unikernel booted by `<name>-hvt` as a
 * QEMU microVM (the Solo5 hvt analogue). Inside the guest the unikernel is a
 * Node process on a minimal Linux, so time, clocks, randomness and the
 * console (the serial line is the init's standard output) are the unix
 * layers; disks are the virtio-blk devices `/dev/vda`, `/dev/vdb`…; the NIC
 * is the virtio-net `eth0` (the launcher's `--net=TAP`).
 */
import { Layer } from "effect"
import { guestBlock } from "./guest/Block.ts"
import { guestSocketStack } from "./guest/SocketStack.ts"
import * as Unix from "./unix.ts"

/** Sleeping on the guest kernel's clock. */
export const time = Unix.time
/** The guest kernel's monotonic clock. */
export const mclock = Unix.mclock
/** The guest's wall clock (its RTC, in UTC). */
export const pclock = Unix.pclock
/** Random bytes from the guest kernel's CSPRNG. */
export const random = Unix.random
/** The console on the serial line. */
export const console = Unix.console
/** A virtio-blk disk, by its manifest name (`Target.block({ name })` in a generated entry point; the manifest device's `disk` names its host file). */
export const block = guestBlock("/dev/vd")
/** `--net socket`: the guest kernel's sockets on `eth0`, addressed from `--ipv4` and `--ipv4-gateway`. */
export const socketStack = guestSocketStack

/** Every basic device of the hvt target. */
export const Solo5Live = /* @__PURE__ */ Layer.mergeAll(time, mclock, pclock, random, console)
