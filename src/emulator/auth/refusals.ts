/**
 * The errors AWS gives when authentication fails, which differ by protocol
 * family: S3 says InvalidAccessKeyId, Query services InvalidClientTokenId,
 * JSON services UnrecognizedClientException, EC2 AuthFailure. SDKs map these
 * codes to exception classes, so they must match.
 */
import {AwsError} from '../errors.js'
import type {Protocol} from '../protocols/errors.js'

const SIGNATURE_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.'
const TOKEN_MESSAGE = 'The security token included in the request is invalid.'

export function missingAuthentication(protocol: Protocol): AwsError {
  switch (protocol) {
    case 'restxml':
      return new AwsError('AccessDenied', 'Access Denied: the request is not signed (no Authorization header, no X-Amz-Credential).', 403)
    case 'query':
    case 'ec2':
      return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403)
    default:
      return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403)
  }
}

export function unknownAccessKey(protocol: Protocol, accessKeyId: string): AwsError {
  switch (protocol) {
    case 'restxml':
      return new AwsError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403, {
        AWSAccessKeyId: accessKeyId,
      })
    case 'query':
      return new AwsError('InvalidClientTokenId', TOKEN_MESSAGE, 403)
    case 'ec2':
      return new AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)
    default:
      return new AwsError('UnrecognizedClientException', TOKEN_MESSAGE, 403)
  }
}

export function signatureMismatch(protocol: Protocol, detail?: {canonicalRequest: string; stringToSign: string}): AwsError {
  const extra: Record<string, string> =
    detail && protocol === 'restxml' ? {StringToSign: detail.stringToSign, CanonicalRequest: detail.canonicalRequest} : {}
  switch (protocol) {
    case 'restxml':
    case 'query':
      return new AwsError('SignatureDoesNotMatch', SIGNATURE_MESSAGE, 403, extra)
    case 'ec2':
      return new AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)
    default:
      return new AwsError('InvalidSignatureException', SIGNATURE_MESSAGE, 403)
  }
}

/** The Authorization header or presigned query could not be read. */
export function malformedAuthorization(protocol: Protocol, message: string): AwsError {
  switch (protocol) {
    case 'restxml':
      return new AwsError('AuthorizationHeaderMalformed', message, 400)
    case 'query':
      return new AwsError('IncompleteSignature', message, 400)
    case 'ec2':
      return new AwsError('AuthFailure', message, 401)
    default:
      return new AwsError('IncompleteSignatureException', message, 400)
  }
}

/** The request's time is more than 15 minutes from the server's. */
export function requestTimeSkewed(protocol: Protocol, requestTime: string, serverTime: Date): AwsError {
  const now = serverTime.toISOString().replace(/[-:]|\.\d{3}/g, '')
  switch (protocol) {
    case 'restxml':
      return new AwsError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403, {
        RequestTime: requestTime,
        ServerTime: serverTime.toISOString(),
        MaxAllowedSkewMilliseconds: '900000',
      })
    case 'ec2':
      return new AwsError('RequestExpired', `Request has expired. Timestamp date is ${requestTime}`, 400)
    case 'query':
      return new AwsError('SignatureDoesNotMatch', `Signature expired: ${requestTime} is now earlier than ${now} (${now} - 15 min.)`, 403)
    default:
      return new AwsError(
        'InvalidSignatureException',
        `Signature expired: ${requestTime} is now earlier than ${now} (${now} - 15 min.)`,
        403,
      )
  }
}

/** A presigned URL past its X-Amz-Date + X-Amz-Expires. */
export function presignedUrlExpired(protocol: Protocol): AwsError {
  if (protocol === 'restxml') return new AwsError('AccessDenied', 'Request has expired', 403)
  if (protocol === 'ec2') return new AwsError('RequestExpired', 'Request has expired', 400)
  if (protocol === 'query') return new AwsError('ExpiredToken', 'Request has expired', 403)
  return new AwsError('InvalidSignatureException', 'Signature expired: the presigned request has expired', 403)
}

/** Temporary credentials past their expiration, in each protocol's words. */
export function expiredToken(protocol: Protocol): AwsError {
  switch (protocol) {
    case 'restxml':
      return new AwsError('ExpiredToken', 'The provided token has expired.', 400)
    case 'ec2':
      return new AwsError('RequestExpired', 'Request has expired.', 400)
    default:
      return new AwsError('ExpiredToken', 'The security token included in the request is expired', 403)
  }
}

/** Temporary credentials used without their session token, or with another one. */
export function invalidSessionToken(protocol: Protocol): AwsError {
  switch (protocol) {
    case 'restxml':
      return new AwsError('InvalidToken', 'The provided token is malformed or otherwise invalid.', 400)
    case 'query':
      return new AwsError('InvalidClientTokenId', TOKEN_MESSAGE, 403)
    case 'ec2':
      return new AwsError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)
    default:
      return new AwsError('UnrecognizedClientException', TOKEN_MESSAGE, 403)
  }
}

/** The body does not hash to the signed x-amz-content-sha256. */
export function payloadHashMismatch(protocol: Protocol): AwsError {
  if (protocol === 'restxml') {
    return new AwsError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
  }
  return signatureMismatch(protocol)
}
