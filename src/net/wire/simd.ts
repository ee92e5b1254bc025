/**
 * The Internet checksum's sum with WebAssembly SIMD, for memory that frames
 * live in. Summing 1460 bytes takes ~0.4 µs in JavaScript (`Uint32Array`
 * words, checksum.ts) and ~0.1 µs here, 16 bytes a step
 * (`i32x4.extadd_pairwise_i16x8_u`), but WebAssembly can only read its own
 * memory. So `simdSlab` allocates memory as a `WebAssembly.Memory` with an
 * instance of the summing module over it: the frame pool cuts frames from
 * such slabs, and `sum` (checksum.ts) uses the instance of the buffer it is
 * given, when there is one. Where WebAssembly SIMD is missing, slabs are
 * plain arrays and every sum is JavaScript's.
 *
 * The module, built below from its instructions (no binary blob, no
 * toolchain; the bytes matched wabt's `wat2wasm` of this text when written),
 * is, in the text format:
 *
 * ```wat
 * (module
 *   (import "env" "memory" (memory 1))
 *   (func (export "sum") (param $start i32) (param $end i32) (result i32)
 *     (local $acc v128) (local $s i64) (local $blocks i32)
 *     ;; $blocks: where the 16-byte blocks end
 *     (local.set $blocks (i32.add (local.get $start) (i32.and (i32.sub (local.get $end) (local.get $start)) (i32.const -16))))
 *     (block $done (loop $next
 *       (br_if $done (i32.ge_u (local.get $start) (local.get $blocks)))
 *       (local.set $acc (i32x4.add (local.get $acc) (i32x4.extadd_pairwise_i16x8_u (v128.load align=1 (local.get $start)))))
 *       (local.set $start (i32.add (local.get $start) (i32.const 16)))
 *       (br $next)))
 *     (local.set $s (i64.add (i64.add (lane 0) (lane 1)) (i64.add (lane 2) (lane 3))))   ;; lane n: i64.extend_i32_u (i32x4.extract_lane n $acc)
 *     (block $done (loop $next                                                       ;; the 2-byte words left
 *       (br_if $done (i32.ge_u (i32.add (local.get $start) (i32.const 1)) (local.get $end)))
 *       (local.set $s (i64.add (local.get $s) (i64.load16_u align=1 (local.get $start))))
 *       (local.set $start (i32.add (local.get $start) (i32.const 2)))
 *       (br $next)))
 *     (if (i32.lt_u (local.get $start) (local.get $end))                             ;; an odd last byte
 *       (then (local.set $s (i64.add (local.get $s) (i64.load8_u (local.get $start))))))
 *     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))  ;; three times
 *     (i32.wrap_i64 (local.get $s))))
 * ```
 *
 * It sums the bytes of `[start, end)` as little-endian 16-bit words, the
 * pairs starting at `start` (any alignment), folded to 16 bits: the
 * byte-swap of the big-endian sum (RFC 1071 §2(B)), as checksum.ts's word
 * path. Each i32 lane gains at most 0x1fffe per block, so one call may sum
 * at most `SIMD_MAX_RANGE` bytes before a lane could overflow.
 */

/** The most bytes one call of the module sums (2^15 blocks: each lane stays below 2^32). */
export const SIMD_MAX_RANGE = 1 << 19

/** Sums `[start, end)` of its memory (absolute offsets), as described above. */
export type SimdSum = (start: number, end: number) => number

/** Unsigned LEB128. */
const uleb = (n: number): Array<number> => {
  const out: Array<number> = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

/** Signed LEB128 (small values). */
const sleb = (n: number): Array<number> => {
  const out: Array<number> = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte]
    out.push(byte | 0x80)
  }
}

/** A section: its id and its contents, length-prefixed. */
const section = (id: number, contents: ReadonlyArray<number>): Array<number> => [id, ...uleb(contents.length), ...contents]
/** A length-prefixed UTF-8 name. */
const name = (text: string): Array<number> => [...uleb(text.length), ...new TextEncoder().encode(text)]

// Opcodes (WebAssembly core spec §5.4, SIMD with the 0xfd prefix).
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, VOID = 0x40
const LOCAL_GET = 0x20, LOCAL_SET = 0x21
const I64_LOAD8_U = 0x31, I64_LOAD16_U = 0x33
const I32_CONST = 0x41, I64_CONST = 0x42
const I32_LT_U = 0x49, I32_GE_U = 0x4f
const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_AND = 0x71
const I64_ADD = 0x7c, I64_AND = 0x83, I64_SHR_U = 0x88
const I32_WRAP_I64 = 0xa7, I64_EXTEND_I32_U = 0xad
const V128_LOAD = [0xfd, ...uleb(0)], I32X4_EXTRACT_LANE = [0xfd, ...uleb(0x1b)]
const I32X4_EXTADD_PAIRWISE_I16X8_U = [0xfd, ...uleb(0x7f)], I32X4_ADD = [0xfd, ...uleb(0xae)]
const I32 = 0x7f, I64 = 0x7e, V128 = 0x7b
/** memarg: alignment 2^0 (any address), offset 0. */
const UNALIGNED = [0, 0]

// Locals: the parameters, then $acc, $s, $blocks.
const START = 0, END_ = 1, ACC = 2, S = 3, BLOCKS = 4

/** i64 of lane `n` of $acc. */
const lane = (n: number) => [LOCAL_GET, ACC, ...I32X4_EXTRACT_LANE, n, I64_EXTEND_I32_U]
/** $s = ($s & 0xffff) + ($s >> 16). */
const foldS = [LOCAL_GET, S, I64_CONST, ...sleb(0xffff), I64_AND, LOCAL_GET, S, I64_CONST, ...sleb(16), I64_SHR_U, I64_ADD, LOCAL_SET, S]

const body = [
  3, 1, V128, 1, I64, 1, I32, // locals: one v128 ($acc), one i64 ($s), one i32 ($blocks)
  LOCAL_GET, START, LOCAL_GET, END_, LOCAL_GET, START, I32_SUB, I32_CONST, ...sleb(-16), I32_AND, I32_ADD, LOCAL_SET, BLOCKS,
  BLOCK, VOID, LOOP, VOID,
  LOCAL_GET, START, LOCAL_GET, BLOCKS, I32_GE_U, BR_IF, 1,
  LOCAL_GET, ACC, LOCAL_GET, START, ...V128_LOAD, ...UNALIGNED, ...I32X4_EXTADD_PAIRWISE_I16X8_U, ...I32X4_ADD, LOCAL_SET, ACC,
  LOCAL_GET, START, I32_CONST, ...sleb(16), I32_ADD, LOCAL_SET, START,
  BR, 0, END, END,
  ...lane(0), ...lane(1), I64_ADD, ...lane(2), ...lane(3), I64_ADD, I64_ADD, LOCAL_SET, S,
  BLOCK, VOID, LOOP, VOID,
  LOCAL_GET, START, I32_CONST, ...sleb(1), I32_ADD, LOCAL_GET, END_, I32_GE_U, BR_IF, 1,
  LOCAL_GET, S, LOCAL_GET, START, I64_LOAD16_U, ...UNALIGNED, I64_ADD, LOCAL_SET, S,
  LOCAL_GET, START, I32_CONST, ...sleb(2), I32_ADD, LOCAL_SET, START,
  BR, 0, END, END,
  LOCAL_GET, START, LOCAL_GET, END_, I32_LT_U, IF, VOID,
  LOCAL_GET, S, LOCAL_GET, START, I64_LOAD8_U, ...UNALIGNED, I64_ADD, LOCAL_SET, S,
  END,
  ...foldS, ...foldS, ...foldS,
  LOCAL_GET, S, I32_WRAP_I64,
  END,
]

/** The module's binary. */
const moduleBytes = (): Uint8Array =>
  Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 2, I32, I32, 1, I32]), // type 0: (i32, i32) -> i32
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]), // import env.memory, at least 1 page
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, ...name("sum"), 0x00, 0]), // export function 0 as "sum"
    ...section(10, [1, ...uleb(body.length), ...body]), // its code
  ])

/** The part of the WebAssembly JavaScript API used here (TypeScript types it only in the DOM library). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  readonly Module: new(bytes: Uint8Array) => object
  readonly Instance: new(module: object, imports: object) => { readonly exports: { readonly sum: SimdSum } }
  readonly Memory: new(descriptor: { readonly initial: number; readonly maximum: number }) => { readonly buffer: ArrayBuffer }
}
const wasm = (globalThis as { readonly WebAssembly?: WasmApi }).WebAssembly

/** The compiled module (compiled at the first slab), or undefined where WebAssembly SIMD is not available. */
let module: object | undefined | null = null
const compiled = (): object | undefined => {
  if (module !== null) return module
  try {
    const bytes = moduleBytes()
    module = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : undefined
  } catch {
    module = undefined
  }
  return module
}

const PAGE = 65536
const sums = new WeakMap<ArrayBufferLike, SimdSum>()

/**
 * At least `bytes` bytes (rounded up to whole 64 KiB pages) of memory that
 * `simdSumOf` can sum: a `WebAssembly.Memory` that never grows (so its
 * buffer is never detached), or a plain array of `bytes` where WebAssembly
 * SIMD is missing.
 */
export const simdSlab = (bytes: number): Uint8Array => {
  const simd = compiled()
  if (wasm === undefined || simd === undefined) return new Uint8Array(bytes)
  const pages = Math.ceil(bytes / PAGE)
  const memory = new wasm.Memory({ initial: pages, maximum: pages })
  const instance = new wasm.Instance(simd, { env: { memory } })
  sums.set(memory.buffer, instance.exports.sum)
  return new Uint8Array(memory.buffer)
}

/** The SIMD sum over `buffer`, if it came from `simdSlab`. */
export const simdSumOf = (buffer: ArrayBufferLike): SimdSum | undefined => sums.get(buffer)
