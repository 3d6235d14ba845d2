/** Exit codes of the CLI, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** A drill did not recover, a check found a problem, a build failed. */
  failure: 1,
  /** Bad command line or bad input file. */
  usage: 2,
  /** Something the machine must provide is missing: root, a component, a tool. */
  environment: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for a person: what went wrong, and (hint) what to do about it. */
export class FiredrillError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FiredrillError';
  }
}

export const usageError = (message: string, hint?: string) => new FiredrillError(message, ExitCode.usage, hint);
export const environmentError = (message: string, hint?: string, options?: ErrorOptions) =>
  new FiredrillError(message, ExitCode.environment, hint, options);
export const failure = (message: string, hint?: string, options?: ErrorOptions) =>
  new FiredrillError(message, ExitCode.failure, hint, options);
