/**
 * An error caused by the user's input (config, data, model file, flag). The CLI prints
 * its message as one line and exits non-zero; anything else is a bug and gets a stack.
 */
export class QuantevalError extends Error {
  constructor(
    message: string,
    /** Process exit code for the CLI. */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "QuantevalError";
  }
}
