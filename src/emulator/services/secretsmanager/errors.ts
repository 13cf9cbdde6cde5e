/** Secrets Manager's errors, named and worded as AWS answers them (JSON 1.1: `__type` and `message`). */
import {AwsError} from '../../errors.js'

export const resourceNotFound = (message = "Secrets Manager can't find the specified secret.") =>
  new AwsError('ResourceNotFoundException', message, 400)

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message, 400)

export const invalidRequest = (message: string) => new AwsError('InvalidRequestException', message, 400)

export const resourceExists = (message: string) => new AwsError('ResourceExistsException', message, 400)

export const limitExceeded = (message: string) => new AwsError('LimitExceededException', message, 400)

export const malformedPolicy = (message: string) => new AwsError('MalformedPolicyDocumentException', message, 400)

export const publicPolicy = (message: string) => new AwsError('PublicPolicyException', message, 400)

export const invalidNextToken = (message = 'The NextToken value is not valid.') => new AwsError('InvalidNextTokenException', message, 400)

/** The refusal AWS gives for any access to a secret scheduled for deletion, except describe, list and restore. */
export const markedForDeletion = () => invalidRequest("You can't perform this operation on the secret because it was marked for deletion.")

/** The request validator's words for a member that breaks its constraint. */
export const validation = (member: string, value: unknown, constraint: string) =>
  new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`,
    400,
  )
