/**
 * Errors a user can hit. Every one carries the exit code the CLI ends with and,
 * where it helps, what to try next. Exit 2 is for usage and config errors.
 */
export class NcapError extends Error {
  readonly exitCode: number
  readonly code: string
  readonly suggestions: string[]

  constructor(message: string, options: {code?: string; exitCode?: number; suggestions?: string[]; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'NcapError'
    this.code = options.code ?? 'NcapError'
    this.exitCode = options.exitCode ?? 1
    this.suggestions = options.suggestions ?? []
  }
}

/** Bad flags, arguments or files given by the user: exit 2. */
export class UsageError extends NcapError {
  constructor(message: string, options: {code?: string; suggestions?: string[]; cause?: unknown} = {}) {
    super(message, {code: 'UsageError', ...options, exitCode: 2})
    this.name = 'UsageError'
  }
}
