/** Lambda's named errors, as the REST-JSON protocol carries them (x-amzn-ErrorType and {Type, message}). */
import {AwsError} from '../../errors.js'

export const resourceNotFound = (message: string) => new AwsError('ResourceNotFoundException', message, 404)
export const functionNotFound = (arn: string) => resourceNotFound(`Function not found: ${arn}`)
export const invalidParameter = (message: string) => new AwsError('InvalidParameterValueException', message, 400)
export const resourceConflict = (message: string) => new AwsError('ResourceConflictException', message, 409)
export const preconditionFailed = (message: string) => new AwsError('PreconditionFailedException', message, 412)
export const requestTooLarge = (message: string) => new AwsError('RequestTooLargeException', message, 413)
export const tooManyRequests = (message: string) => new AwsError('TooManyRequestsException', message, 429)
export const serviceError = (message: string) => new AwsError('ServiceException', message, 500)
export const unsupportedMediaType = (message: string) => new AwsError('UnsupportedMediaTypeException', message, 415)

/** One of AWS's "1 validation error detected" messages. */
export function validation(member: string, value: unknown, constraint: string): AwsError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value)
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`,
    400,
  )
}

/** An operation of Lambda's model the emulator does not serve. */
export const notServed = (operation: string) =>
  new AwsError('NotImplemented', `The ncap emulator does not serve the Lambda operation ${operation}.`, 501)
