/**
 * The `.modinfo` section of a Linux kernel module (an ELF64 little-endian
 * relocatable object): `name=virtio_blk`, `depends=virtio,virtio_ring`, … The
 * Debian package ships no `modules.dep` (depmod makes it at install time), so
 * dependencies are read here, where depmod reads them.
 */

/** The `key=value` fields of a module's `.modinfo`, in order (a key may repeat). */
export const readModInfo = (elf: Uint8Array): Array<readonly [string, string]> => {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength)
  if (view.getUint32(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) {
    throw new Error("not a 64-bit little-endian ELF file: is this an x86-64 kernel module?")
  }
  const sectionsAt = Number(view.getBigUint64(0x28, true))
  const entrySize = view.getUint16(0x3a, true)
  const count = view.getUint16(0x3c, true)
  const section = (index: number) => {
    const at = sectionsAt + index * entrySize
    return {
      name: view.getUint32(at, true),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
    }
  }
  const names = section(view.getUint16(0x3e, true))
  const nameOf = (offset: number) => {
    const start = names.offset + offset
    return new TextDecoder().decode(elf.subarray(start, elf.indexOf(0, start)))
  }
  for (let index = 0; index < count; index++) {
    const { name, offset, size } = section(index)
    if (nameOf(name) !== ".modinfo") continue
    return new TextDecoder().decode(elf.subarray(offset, offset + size)).split("\0")
      .filter((field) => field.includes("="))
      .map((field) => [field.slice(0, field.indexOf("=")), field.slice(field.indexOf("=") + 1)] as const)
  }
  return []
}

/** The modules a module needs loaded first (its `depends=` field). */
export const moduleDependencies = (elf: Uint8Array): Array<string> =>
  readModInfo(elf).filter(([key]) => key === "depends").flatMap(([, value]) => value.split(",")).filter((d) => d !== "")
