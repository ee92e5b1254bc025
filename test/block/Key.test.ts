import { describe, expect, it } from "@effect/vitest"
import { fc, test } from "@fast-check/vitest"
import { keyToString, parseKey } from "../../src/block/Key.ts"

/** A segment that is a valid key segment. */
const segment = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[/\\\0]/.test(s) && s !== "." && s !== "..")

describe("parseKey", () => {
  it("parses relative and root-anchored paths into segments", () => {
    expect(parseKey("a/b/c")).toEqual({ segments: ["a", "b", "c"] })
    expect(parseKey("/a/b")).toEqual({ segments: ["a", "b"] })
    expect(parseKey("")).toEqual({ segments: [] })
    expect(parseKey("/")).toEqual({ segments: [] })
    expect(parseKey("café/日本語.txt")).toEqual({ segments: ["café", "日本語.txt"] })
  })

  it("refuses escapes and empty segments with a reason", () => {
    for (const path of ["..", "../x", "a/../b", "a/./b", "//etc/passwd", "a//b", "a/", "a\\..\\b", "a\0b"]) {
      const parsed = parseKey(path)
      expect("segments" in parsed, path).toBe(false)
      if (!("segments" in parsed)) {
        expect(parsed._tag).toBe("KvInvalidKey")
        expect(parsed.message).toContain(JSON.stringify(path))
      }
    }
  })

  test.prop([fc.array(segment, { maxLength: 6 })])("keyToString and parseKey round-trip", (segments) => {
    expect(parseKey(keyToString({ segments }))).toEqual({ segments })
  })
})
