/** IAM's errors, named as AWS names them, with AWS's HTTP statuses and wording. */
import {AwsError} from '../../errors.js'

export type EntityKind = 'user' | 'group' | 'role' | 'policy' | 'instance profile' | 'access key' | 'login profile' | 'policy version'

const capitalized = (kind: string) => kind.charAt(0).toUpperCase() + kind.slice(1)

export const noSuchEntity = (message: string) => new AwsError('NoSuchEntity', message, 404)

export const entityNotFound = (kind: EntityKind, name: string) => noSuchEntity(`The ${kind} with name ${name} cannot be found.`)

export const entityExists = (kind: EntityKind, name: string) =>
  new AwsError('EntityAlreadyExists', `${capitalized(kind)} with name ${name} already exists.`, 409)

/** DeleteConflict: "Cannot delete entity, must <what> first." */
export const deleteConflict = (what: string) => new AwsError('DeleteConflict', `Cannot delete entity, must ${what} first.`, 409)

export const limitExceeded = (message: string) => new AwsError('LimitExceeded', message, 409)

export const malformedPolicy = (message: string) => new AwsError('MalformedPolicyDocument', message, 400)

export const invalidInput = (message: string) => new AwsError('InvalidInput', message, 400)

/** ValidationError in the words of AWS's request validator. */
export const validationError = (member: string, value: string, constraint: string) =>
  new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
    400,
  )

export const passwordPolicyViolation = (message: string) => new AwsError('PasswordPolicyViolation', message, 400)
