/** 32-bit random numbers from `crypto.getRandomValues`, drawn 256 at a time (a call costs about as much for 1 word as for 256). */
export const cryptoRandom: () => number = (() => {
  const words = new Uint32Array(256)
  let next = words.length
  return (): number => {
    if (next === words.length) {
      globalThis.crypto.getRandomValues(words)
      next = 0
    }
    return words[next++]!
  }
})()
