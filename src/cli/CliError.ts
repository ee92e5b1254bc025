/**
 * The errors of the `effect-uk` command. Each says what went wrong and how to
 * fix it; the command prints the message and exits non-zero.
 */
import { Data } from "effect"

/** No `config.ts` in the unikernel's directory. */
export class ConfigNotFound extends Data.TaggedError("ConfigNotFound")<{ readonly dir: string }> {
  override get message() {
    return `no config.ts in ${this.dir}: give the unikernel's directory (effect-uk configure examples/hello) or write a config.ts there`
  }
}

/** `config.ts` does not compile, throws, or does not export a unikernel. `message` is `file:line:col: …`. */
export class ConfigInvalid extends Data.TaggedError("ConfigInvalid")<{ readonly message: string }> {}

/** A device cannot be provided on the chosen target or with the chosen keys. */
export class DeviceUnavailable extends Data.TaggedError("DeviceUnavailable")<{
  readonly device: string
  readonly reason: string
}> {
  override get message() {
    return `device ${this.device}: ${this.reason}`
  }
}

/** A key on the command line is unknown, misplaced or has a bad value. */
export class BadArguments extends Data.TaggedError("BadArguments")<{ readonly message: string }> {}

/** The unikernel has not been configured. */
export class NotConfigured extends Data.TaggedError("NotConfigured")<{ readonly dir: string }> {
  override get message() {
    return `${this.dir} is not configured: run effect-uk configure ${this.dir} first`
  }
}

/** Type errors in the unikernel, one `file:line:col: message` per line. */
export class TypeCheckFailed extends Data.TaggedError("TypeCheckFailed")<{ readonly diagnostics: string }> {
  override get message() {
    return `type errors:\n${this.diagnostics}`
  }
}

/** esbuild could not bundle the entry point. */
export class BundleFailed extends Data.TaggedError("BundleFailed")<{ readonly diagnostics: string }> {
  override get message() {
    return `bundling failed:\n${this.diagnostics}`
  }
}

/** A custom build or clean step failed. */
export class StepFailed extends Data.TaggedError("StepFailed")<{ readonly step: string; readonly cause: unknown }> {
  override get message() {
    return `step "${this.step}" failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** A child process (npm, the unikernel) could not be started or failed. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly command: string; readonly reason: string }> {
  override get message() {
    return `${this.command}: ${this.reason}`
  }
}

/** Every error of the `effect-uk` command. */
export type CliFailure =
  | ConfigNotFound
  | ConfigInvalid
  | DeviceUnavailable
  | BadArguments
  | NotConfigured
  | TypeCheckFailed
  | BundleFailed
  | StepFailed
  | CommandFailed
