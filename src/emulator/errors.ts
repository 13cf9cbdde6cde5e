/**
 * An AWS error as a service reports it: the code clients map to an exception
 * (NoSuchBucket, AccessDenied, ValidationError, …), the HTTP status, and the
 * message. Rendering it in each protocol's shape is protocols/errors.ts's job.
 */
export class AwsError extends Error {
  readonly code: string
  readonly status: number
  /** Sender (client) fault or Receiver (server) fault, for the Query protocol's <Type>. */
  readonly fault: 'Sender' | 'Receiver'
  /** Extra elements some errors carry (S3's BucketName, Key, Resource, …). */
  readonly extra: Record<string, string>

  constructor(code: string, message: string, status = 400, extra: Record<string, string> = {}) {
    super(message)
    this.name = 'AwsError'
    this.code = code
    this.status = status
    this.fault = status >= 500 ? 'Receiver' : 'Sender'
    this.extra = extra
  }
}

export const accessDenied = (message = 'Access Denied') => new AwsError('AccessDenied', message, 403)
export const internalError = (message = 'We encountered an internal error. Please try again.') =>
  new AwsError('InternalError', message, 500)
