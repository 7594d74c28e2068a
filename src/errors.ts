// One error family for everything keyprov reports to a user. Library code throws;
// only the CLI entry point (src/cli/main.ts) prints and turns the code into an exit code.

/** Exit codes, documented in README.md. Stable: scripts and CI depend on them. */
export const ExitCode = {
  OK: 0,
  /** Something went wrong that is not one of the cases below (also: `--check` found a stale file). */
  FAILURE: 1,
  /** Bad command line or bad configuration. */
  USAGE: 2,
  /** An external tool (build, flasher, openssl, AWS) failed. */
  TOOL_FAILED: 3,
  /** The device did not answer in time (no key on the console, no success line). */
  DEVICE_TIMEOUT: 4,
  /** A verification failed: chain, key mismatch, board not connecting, corrupt key. */
  VERIFY_FAILED: 5,
  /** Stopped by SIGINT / SIGTERM (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface KeyprovErrorOptions {
  /** One line telling the user what to do about it. */
  hint?: string;
  exitCode?: ExitCodeValue;
  cause?: unknown;
  /** Structured facts for `--json` output (never secrets). */
  details?: Record<string, unknown>;
}

export class KeyprovError extends Error {
  /** Stable, machine-readable code such as `CONFIG_INVALID`. */
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, opts: KeyprovErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KeyprovError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.FAILURE;
    this.details = opts.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, exitCode: this.exitCode, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Bad command line or configuration (exit 2). */
export class UsageError extends KeyprovError {
  constructor(code: string, message: string, opts: Omit<KeyprovErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.USAGE });
    this.name = 'UsageError';
  }
}

/** An external tool failed (exit 3). */
export class ToolError extends KeyprovError {
  constructor(code: string, message: string, opts: Omit<KeyprovErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.TOOL_FAILED });
    this.name = 'ToolError';
  }
}

/** The device did not answer in time (exit 4). */
export class DeviceTimeoutError extends KeyprovError {
  constructor(code: string, message: string, opts: Omit<KeyprovErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.DEVICE_TIMEOUT });
    this.name = 'DeviceTimeoutError';
  }
}

/** A verification failed (exit 5). */
export class VerificationError extends KeyprovError {
  constructor(code: string, message: string, opts: Omit<KeyprovErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...opts, exitCode: ExitCode.VERIFY_FAILED });
    this.name = 'VerificationError';
  }
}

export function isKeyprovError(e: unknown): e is KeyprovError {
  return e instanceof KeyprovError;
}
