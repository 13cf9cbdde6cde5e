/**
 * S3 against botocore's model: every operation src/emulator/services/s3/handler.ts
 * routes, driven through boto3 (path style), answers checked against the
 * output shapes, modeled errors provoked; every other operation probed on an
 * existing bucket and expected to be refused with NotImplemented.
 */
import test from 'ava'
import {ref} from './drive.js'
import {conformanceSuite, refusalTitle, type Step} from './suite.js'

/** What handler.ts routes (by method, path and sub-resource), as the model names it. */
const SERVED = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'ListObjects',
  'ListObjectsV2',
  'ListMultipartUploads',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'GetPublicAccessBlock',
  'PutPublicAccessBlock',
  'DeletePublicAccessBlock',
  'GetBucketEncryption',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'GetBucketNotification',
  'GetBucketNotificationConfiguration',
  'PutBucketNotification',
  'PutBucketNotificationConfiguration',
  'GetBucketTagging',
  'PutBucketTagging',
  'DeleteBucketTagging',
  'GetBucketAcl',
  'GetBucketVersioning',
  'GetObjectAcl',
  'PutObject',
  'CopyObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'DeleteObjects',
  'CreateMultipartUpload',
  'UploadPart',
  'ListParts',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
]

const BUCKET = 'conf-bucket'
const bucket = {Bucket: BUCKET}
const object = {Bucket: BUCKET, Key: 'notes/hello.txt'}
const missingKey = {Bucket: BUCKET, Key: 'notes/absent.txt'}
const missingBucket = {Bucket: 'conf-no-such-bucket'}
const upload = {Bucket: BUCKET, Key: 'big/object.bin'}
const ENCRYPTION = {Rules: [{ApplyServerSideEncryptionByDefault: {SSEAlgorithm: 'AES256'}}]}
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*`}],
})

let counter = 0
const ok = (op: string, params: Record<string, unknown> = {}, id = `${op}#${++counter}`): Step => ({id, service: 's3', op, params})
const fails = (op: string, params: Record<string, unknown>, expect: string): Step => ({...ok(op, params), expect})

const steps: Step[] = [
  ok('CreateBucket', bucket),
  ok('CreateBucket', {Bucket: 'conf-probe'}),
  ok('CreateBucket', {Bucket: 'conf-west', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}}),
  fails('CreateBucket', {Bucket: 'conf-west', CreateBucketConfiguration: {LocationConstraint: 'eu-west-1'}}, 'BucketAlreadyOwnedByYou'),
  ok('ListBuckets'),
  ok('HeadBucket', bucket),
  fails('HeadBucket', missingBucket, 'NoSuchBucket'),
  ok('GetBucketLocation', {Bucket: 'conf-west'}),
  ok('GetBucketAcl', bucket),
  ok('GetBucketVersioning', bucket),
  // Objects
  ok('PutObject', {...object, Body: 'hello from boto3', ContentType: 'text/plain', Metadata: {origin: 'conformance'}}),
  ok('PutObject', {Bucket: BUCKET, Key: 'notes/checked.txt', Body: 'checked', ChecksumAlgorithm: 'SHA256'}),
  ok('GetObject', object),
  ok('GetObject', {...object, Range: 'bytes=0-4'}),
  fails('GetObject', missingKey, 'NoSuchKey'),
  fails('GetObject', {...object, Range: 'bytes=100-200'}, 'InvalidRange'),
  ok('HeadObject', object),
  fails('HeadObject', missingKey, 'NoSuchKey'),
  ok('GetObjectAcl', object),
  fails('GetObjectAcl', missingKey, 'NoSuchKey'),
  ok('CopyObject', {Bucket: BUCKET, Key: 'notes/copy.txt', CopySource: `${BUCKET}/notes/hello.txt`}),
  fails('CopyObject', {Bucket: BUCKET, Key: 'notes/copy2.txt', CopySource: `${BUCKET}/notes/absent.txt`}, 'NoSuchKey'),
  ok('ListObjects', bucket),
  ok('ListObjects', {...bucket, Prefix: 'notes/', Delimiter: '/', MaxKeys: 1}),
  fails('ListObjects', missingBucket, 'NoSuchBucket'),
  ok('ListObjectsV2', bucket),
  ok('ListObjectsV2', {...bucket, Delimiter: '/', FetchOwner: true, MaxKeys: 1}),
  fails('ListObjectsV2', missingBucket, 'NoSuchBucket'),
  // Multipart: one small part is a valid (last) part.
  ok('CreateMultipartUpload', {...upload, ContentType: 'application/octet-stream'}, 'mpu'),
  ok('UploadPart', {...upload, UploadId: ref('mpu', 'UploadId'), PartNumber: 1, Body: 'part one'}, 'part1'),
  fails('UploadPart', {...upload, UploadId: 'no-such-upload', PartNumber: 1, Body: 'x'}, 'NoSuchUpload'),
  ok('ListParts', {...upload, UploadId: ref('mpu', 'UploadId')}),
  fails('ListParts', {...upload, UploadId: 'no-such-upload'}, 'NoSuchUpload'),
  ok('ListMultipartUploads', bucket),
  fails('ListMultipartUploads', missingBucket, 'NoSuchBucket'),
  ok('CompleteMultipartUpload', {
    ...upload,
    UploadId: ref('mpu', 'UploadId'),
    MultipartUpload: {Parts: [{PartNumber: 1, ETag: ref('part1', 'ETag')}]},
  }),
  fails(
    'CompleteMultipartUpload',
    {...upload, UploadId: 'no-such-upload', MultipartUpload: {Parts: [{PartNumber: 1, ETag: '"x"'}]}},
    'NoSuchUpload',
  ),
  ok('CreateMultipartUpload', upload, 'abandoned'),
  ok('AbortMultipartUpload', {...upload, UploadId: ref('abandoned', 'UploadId')}),
  fails('AbortMultipartUpload', {...upload, UploadId: ref('abandoned', 'UploadId')}, 'NoSuchUpload'),
  // Stored bucket configurations: missing first, then put, get, delete.
  fails('GetBucketPolicy', bucket, 'NoSuchBucketPolicy'),
  ok('PutBucketPolicy', {...bucket, Policy: POLICY}),
  fails('PutBucketPolicy', {...bucket, Policy: 'not json'}, 'MalformedPolicy'),
  ok('GetBucketPolicy', bucket),
  ok('DeleteBucketPolicy', bucket),
  fails('GetPublicAccessBlock', bucket, 'NoSuchPublicAccessBlockConfiguration'),
  ok('PutPublicAccessBlock', {...bucket, PublicAccessBlockConfiguration: {BlockPublicAcls: true, IgnorePublicAcls: true}}),
  ok('GetPublicAccessBlock', bucket),
  ok('DeletePublicAccessBlock', bucket),
  fails('GetBucketEncryption', bucket, 'ServerSideEncryptionConfigurationNotFoundError'),
  ok('PutBucketEncryption', {...bucket, ServerSideEncryptionConfiguration: ENCRYPTION}),
  ok('GetBucketEncryption', bucket),
  ok('DeleteBucketEncryption', bucket),
  fails('GetBucketTagging', bucket, 'NoSuchTagSet'),
  ok('PutBucketTagging', {...bucket, Tagging: {TagSet: [{Key: 'project', Value: 'conformance'}]}}),
  ok('GetBucketTagging', bucket),
  ok('DeleteBucketTagging', bucket),
  ok('GetBucketNotificationConfiguration', bucket),
  ok('PutBucketNotificationConfiguration', {
    ...bucket,
    NotificationConfiguration: {
      LambdaFunctionConfigurations: [
        {LambdaFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:conf', Events: ['s3:ObjectCreated:*']},
      ],
    },
  }),
  ok('GetBucketNotificationConfiguration', bucket),
  ok('PutBucketNotification', {...bucket, NotificationConfiguration: {}}),
  ok('GetBucketNotification', bucket),
  fails('PutBucketNotificationConfiguration', {...missingBucket, NotificationConfiguration: {}}, 'NoSuchBucket'),
  // Deletes
  fails('DeleteBucket', bucket, 'BucketNotEmpty'),
  ok('DeleteObject', {Bucket: BUCKET, Key: 'notes/copy.txt'}),
  ok('DeleteObject', missingKey),
  fails('DeleteObject', {...missingBucket, Key: 'x'}, 'NoSuchBucket'),
  ok('DeleteObjects', {...bucket, Delete: {Objects: [{Key: 'notes/hello.txt'}, {Key: 'notes/checked.txt'}, {Key: 'big/object.bin'}]}}),
  fails('DeleteObjects', {...missingBucket, Delete: {Objects: [{Key: 'x'}]}}, 'NoSuchBucket'),
  ok('DeleteBucket', bucket),
  ok('DeleteBucket', {Bucket: 'conf-west'}),
  fails('DeleteBucket', bucket, 'NoSuchBucket'),
]

/**
 * Unserved operations that src/emulator/services/s3/handler.ts (not this helper's files) does not refuse:
 * their sub-resource is missing from its UNSUPPORTED deny-list, so the request falls through to a served
 * route. Fix: route by an allow-list of the query parameters S3 operations use, refusing any other with
 * NotImplemented naming it (or, smallest, add these names to UNSUPPORTED).
 */
const FALLS_THROUGH: Record<string, string> = {
  GetBucketPolicyStatus: 'GET ?policyStatus is answered as ListObjects',
  GetBucketAbac: 'GET ?abac is answered as ListObjects',
  GetBucketMetadataConfiguration: 'GET ?metadataConfiguration is answered as ListObjects',
  GetBucketMetadataTableConfiguration: 'GET ?metadataTable is answered as ListObjects',
  CreateSession: 'GET ?session is answered as ListObjects',
  DeleteBucketMetadataConfiguration: 'DELETE ?metadataConfiguration DELETES THE BUCKET',
  DeleteBucketMetadataTableConfiguration: 'DELETE ?metadataTable DELETES THE BUCKET',
  PutBucketAbac: 'PUT ?abac is taken for CreateBucket (MalformedXML)',
  UpdateBucketMetadataInventoryTableConfiguration: 'PUT ?metadataInventoryTable is taken for CreateBucket (MalformedXML)',
  UpdateBucketMetadataJournalTableConfiguration: 'PUT ?metadataJournalTable is taken for CreateBucket (MalformedXML)',
  CreateBucketMetadataConfiguration: 'POST ?metadataConfiguration answers MethodNotAllowed',
  CreateBucketMetadataTableConfiguration: 'POST ?metadataTable answers MethodNotAllowed',
  RenameObject: 'PUT object ?renameObject is taken for PutObject and OVERWRITES the destination with an empty body',
  UpdateObjectEncryption: 'PUT object ?encryption is taken for PutObject and OVERWRITES the object with the XML body',
}

/**
 * Operations signed for another signing name (s3express, s3-object-lambda): the core answers UnknownService
 * as JSON 1.1, which boto3's S3 parser reads as a bare "400 Bad Request". Fix in src/emulator/protocols/errors.ts:
 * map both signing names to 'restxml' in PROTOCOLS, so the refusal reaches S3 clients with its code.
 */
const OTHER_SIGNING_NAME: Record<string, string> = {
  ListDirectoryBuckets: 'signed for s3express; UnknownService sent as JSON',
  WriteGetObjectResponse: 'signed for s3-object-lambda; UnknownService sent as JSON',
}

conformanceSuite(test, {
  service: 's3',
  served: SERVED,
  steps,
  alive: ok('ListBuckets'),
  probeInputs: {Bucket: 'conf-probe', Key: 'probe.txt'},
  // Some unserved operations fall through to a served route (see knownBugs): give every probe a fresh bucket.
  probeSetUp: ok('CreateBucket', {Bucket: 'conf-probe'}),
  refusals: ['NotImplemented', 'UnknownService'],
  knownBugs: Object.fromEntries(Object.entries({...FALLS_THROUGH, ...OTHER_SIGNING_NAME}).map(([op, bug]) => [refusalTitle(op), bug])),
  // Members S3 returns every time although its model marks almost nothing required.
  always: {
    ListBucketsOutput: ['Buckets', 'Owner'],
    Bucket: ['Name', 'CreationDate'],
    ListObjectsOutput: ['Name', 'Prefix', 'MaxKeys', 'IsTruncated'],
    ListObjectsV2Output: ['Name', 'Prefix', 'MaxKeys', 'KeyCount', 'IsTruncated'],
    Object: ['Key', 'LastModified', 'ETag', 'Size', 'StorageClass'],
    PutObjectOutput: ['ETag'],
    GetObjectOutput: ['Body', 'ContentLength', 'ContentType', 'ETag', 'LastModified'],
    HeadObjectOutput: ['ContentLength', 'ContentType', 'ETag', 'LastModified'],
    CopyObjectOutput: ['CopyObjectResult'],
    CopyObjectResult: ['ETag', 'LastModified'],
    CreateMultipartUploadOutput: ['Bucket', 'Key', 'UploadId'],
    UploadPartOutput: ['ETag'],
    ListPartsOutput: ['Bucket', 'Key', 'UploadId', 'PartNumberMarker', 'MaxParts', 'IsTruncated', 'Parts'],
    Part: ['PartNumber', 'LastModified', 'ETag', 'Size'],
    ListMultipartUploadsOutput: ['Bucket', 'MaxUploads', 'IsTruncated'],
    MultipartUpload: ['UploadId', 'Key', 'Initiated'],
    CompleteMultipartUploadOutput: ['Location', 'Bucket', 'Key', 'ETag'],
    DeletedObject: ['Key'],
    GetBucketAclOutput: ['Owner', 'Grants'],
    GetObjectAclOutput: ['Owner', 'Grants'],
    Grant: ['Grantee', 'Permission'],
    Owner: ['ID'],
    GetBucketPolicyOutput: ['Policy'],
    GetPublicAccessBlockOutput: ['PublicAccessBlockConfiguration'],
    GetBucketEncryptionOutput: ['ServerSideEncryptionConfiguration'],
    HeadBucketOutput: ['BucketRegion'],
    GetBucketLocationOutput: ['LocationConstraint'],
  },
  uninducible: {
    PutObject:
      'its modeled errors concern directory buckets (InvalidWriteOffset, TooManyParts) and SSE-C/KMS mismatches (EncryptionTypeMismatch, InvalidRequest) that this emulator does not model',
    CopyObject: 'ObjectNotInActiveTierError needs an archived (Glacier) source; the emulator stores STANDARD only',
  },
})
