/**
 * A block device of a VM target, as the generated entry point names it:
 * `Target.block({"name":"block"})`. The manifest device's `disk` says which
 * host file backs it; the image build lists the disk names in attachment
 * order, and the guest finds its device by that position.
 */

/** A VM block device: its manifest name and how it is used. */
export interface GuestBlockSpec {
  readonly name: string
  readonly readOnly?: boolean
  readonly sectorSize?: number
}

/** The file in the image listing block device names in attachment order, one a line (written by the image build). */
export const disksListFile = "/effect-uk/disks"

/** A disk's name under Linux for its position: 0 → `a`, 25 → `z`, 26 → `aa` (as `vda`, `xvdaa`). */
export const diskLetters = (index: number): string =>
  (index >= 26 ? diskLetters(Math.floor(index / 26) - 1) : "") + String.fromCharCode(97 + (index % 26))
