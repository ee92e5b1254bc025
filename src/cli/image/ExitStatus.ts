/**
 * How a guest reports its exit status to the launcher: after the unikernel
 * exits, the init writes one line `effect-uk-exit-status:<code>` on the
 * console, the last thing before powering off. The launcher takes it out of
 * the output and exits with the code. A line on the serial console needs no
 * extra device and works the same under KVM, TCG and on Xen's `xl console`.
 */

/** What the status line starts with. */
export const exitStatusPrefix = "effect-uk-exit-status:"

/** The exit code a status line carries, or undefined for any other line. */
export const parseExitStatus = (line: string): number | undefined => {
  const match = /^effect-uk-exit-status:(\d{1,3})$/.exec(line)
  return match?.[1] === undefined ? undefined : Number(match[1])
}
