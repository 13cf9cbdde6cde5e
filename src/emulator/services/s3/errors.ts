/**
 * S3's named errors: the codes and statuses the SDKs map to exceptions
 * (NoSuchBucket → NoSuchBucket, NoSuchKey → NoSuchKey, …), with the extra
 * elements S3 puts in its <Error> document.
 */
import {AwsError} from '../../errors.js'

export const noSuchBucket = (bucket: string) =>
  new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, {BucketName: bucket})

export const noSuchKey = (key: string) => new AwsError('NoSuchKey', 'The specified key does not exist.', 404, {Key: key})

export const noSuchUpload = (uploadId: string) =>
  new AwsError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    {UploadId: uploadId},
  )

export const bucketAlreadyOwnedByYou = (bucket: string) =>
  new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, {
    BucketName: bucket,
  })

export const bucketNotEmpty = (bucket: string, versioned = false) =>
  new AwsError(
    'BucketNotEmpty',
    versioned
      ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.'
      : 'The bucket you tried to delete is not empty',
    409,
    {BucketName: bucket},
  )

export const invalidBucketName = (bucket: string) =>
  new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, {BucketName: bucket})

export const invalidPart = (partNumber: number) =>
  new AwsError(
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    400,
    {PartNumber: String(partNumber)},
  )

export const invalidPartOrder = () =>
  new AwsError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400)

export const entityTooSmall = (size: number) =>
  new AwsError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, {
    ProposedSize: String(size),
    MinSizeAllowed: String(MIN_PART_SIZE),
  })

export const MIN_PART_SIZE = 5 * 1024 * 1024

export const invalidRange = (size: number) =>
  new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {ActualObjectSize: String(size)})

export const preconditionFailed = (condition: string) =>
  new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
    Condition: condition,
  })

export const invalidArgument = (message: string, name?: string, value?: string) =>
  new AwsError('InvalidArgument', message, 400, name === undefined ? {} : {ArgumentName: name, ArgumentValue: value ?? ''})

export const invalidRequest = (message: string) => new AwsError('InvalidRequest', message, 400)

export const malformedXml = () =>
  new AwsError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400)

export const badDigest = (message = 'The Content-MD5 you specified did not match what we received.') =>
  new AwsError('BadDigest', message, 400)

export const invalidDigest = () => new AwsError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400)

export const incompleteBody = () =>
  new AwsError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header', 400)

export const noSuchBucketPolicy = (bucket: string) =>
  new AwsError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404, {BucketName: bucket})

export const noSuchPublicAccessBlock = (bucket: string) =>
  new AwsError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404, {
    BucketName: bucket,
  })

export const noSuchEncryption = (bucket: string) =>
  new AwsError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', 404, {
    BucketName: bucket,
  })

export const noSuchTagSet = (bucket: string) => new AwsError('NoSuchTagSet', 'The TagSet does not exist', 404, {BucketName: bucket})

export const malformedPolicy = (message: string) => new AwsError('MalformedPolicy', message, 400)

export const methodNotAllowed = (method: string, resourceType: string) =>
  new AwsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
    Method: method,
    ResourceType: resourceType,
  })

export const keyTooLong = () => new AwsError('KeyTooLongError', 'Your key is too long', 400)

export const notImplementedHere = (what: string) =>
  new AwsError('NotImplemented', `A header or query you provided implies functionality that ncap's emulator does not serve: ${what}`, 501)

/** Response headers an S3 error carries (a delete marker's x-amz-delete-marker and x-amz-version-id). */
export const errorHeaders = new WeakMap<AwsError, Record<string, string>>()

export function withHeaders(error: AwsError, headers: Record<string, string>): AwsError {
  errorHeaders.set(error, headers)
  return error
}

export const invalidBucketState = (message: string) => new AwsError('InvalidBucketState', message, 409)

export const invalidVersionId = (versionId: string) =>
  new AwsError('InvalidArgument', 'Invalid version id specified', 400, {ArgumentName: 'versionId', ArgumentValue: versionId})

export const noSuchVersion = (key: string, versionId: string) =>
  new AwsError('NoSuchVersion', 'The specified version does not exist.', 404, {Key: key, VersionId: versionId})

export const lockedObject = () => new AwsError('AccessDenied', 'Access Denied because object protected by object lock.', 403)

export const invalidTag = (message: string) => new AwsError('InvalidTag', message, 400)

export const noSuchLockConfiguration = (bucket: string) =>
  new AwsError('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket', 404, {
    BucketName: bucket,
  })

export const noSuchObjectLock = () =>
  new AwsError('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration', 404)

export const missingLockConfiguration = () => new AwsError('InvalidRequest', 'Bucket is missing Object Lock Configuration', 400)

export const noSuchConfiguration = (code: string, message: string, bucket: string) => new AwsError(code, message, 404, {BucketName: bucket})

export const invalidPartNumber = () => new AwsError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416)
