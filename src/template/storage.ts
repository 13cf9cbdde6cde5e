/**
 * The pipeline's bucket (private, encrypted, public access blocked) with its event
 * notifications, and the custom resource that makes the group folders: it creates
 * them on Create, adds new groups' folders on Update without touching data, and
 * empties the bucket on Delete so the stack can remove it.
 */
import type {Pipeline} from '../config/model.js'
import {NcapError} from '../errors.js'
import {addFunction} from './functions.js'
import {functionName} from './names.js'
import {getAtt, ref, type TemplateParts} from './types.js'

export const BUCKET_ID = 'PipelineBucket'
export const FOLDERS_ID = 'BucketFolders'
export const CONFIGS_DIR = 'configs'
export const SUBMISSIONS_DIR = 'submissions'

/** An S3 ObjectCreated notification to one of the stack's functions. */
export interface Notification {
  prefix: string
  suffix?: string
  functionId: string
  /** What asked for it, for error messages: "group carcealab2's submissions (submit handler)". */
  purpose: string
}

/** The folders made in each group's prefix, in the order the job protocol lists them. */
export function groupFolders(pipeline: Pipeline): string[] {
  const {inDir, outDir, logDir} = pipeline.instance
  return [inDir, outDir, logDir, CONFIGS_DIR, SUBMISSIONS_DIR]
}

export function bucketArn(pipeline: Pipeline, path?: string): string {
  return path === undefined ? `arn:aws:s3:::${pipeline.name}` : `arn:aws:s3:::${pipeline.name}/${path}`
}

/**
 * S3 refuses a configuration in which two rules for the same event type could both
 * match one key (prefixes where one starts the other, and suffixes where one ends
 * the other). Find such a pair before CloudFormation does, and say which config
 * settings made it.
 */
export function checkNotificationOverlap(pipeline: Pipeline, notifications: Notification[]): void {
  const byTopFolder = new Map<string, Notification[]>()
  for (const n of notifications) {
    const top = n.prefix.split('/')[0] ?? ''
    const list = byTopFolder.get(top) ?? []
    list.push(n)
    byTopFolder.set(top, list)
  }
  for (const list of byTopFolder.values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!
        const b = list[j]!
        const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix)
        const sa = a.suffix ?? ''
        const sb = b.suffix ?? ''
        if (prefixes && (sa.endsWith(sb) || sb.endsWith(sa))) {
          throw new NcapError(
            `${pipeline.file}: S3 would refuse the bucket's notifications: ${a.purpose} (prefix "${a.prefix}", suffix "${sa}") ` +
              `and ${b.purpose} (prefix "${b.prefix}", suffix "${sb}") can match the same object`,
            {
              code: 'OverlappingNotifications',
              exitCode: 2,
              suggestions: [
                'Set $.Lambda.PostTrigger to a file name that is not a submit file (NeuroCAAS used end.txt), or give the chained group UserInput: true',
              ],
            },
          )
        }
      }
    }
  }
}

export function addBucket(parts: TemplateParts, pipeline: Pipeline, notifications: Notification[], permissionIds: string[]): void {
  checkNotificationOverlap(pipeline, notifications)
  const properties: Record<string, unknown> = {
    BucketName: pipeline.name,
    PublicAccessBlockConfiguration: {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true},
    BucketEncryption: {ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault: {SSEAlgorithm: 'AES256'}}]},
    OwnershipControls: {Rules: [{ObjectOwnership: 'BucketOwnerEnforced'}]},
  }
  if (notifications.length > 0) {
    properties.NotificationConfiguration = {
      LambdaConfigurations: notifications.map((n) => ({
        Event: 's3:ObjectCreated:*',
        Filter: {
          S3Key: {Rules: [{Name: 'prefix', Value: n.prefix}, ...(n.suffix ? [{Name: 'suffix', Value: n.suffix}] : [])]},
        },
        Function: getAtt(n.functionId, 'Arn'),
      })),
    }
  }
  parts.resource(BUCKET_ID, {
    Type: 'AWS::S3::Bucket',
    // S3 checks that it may invoke each function when the notifications are set.
    ...(permissionIds.length > 0 ? {DependsOn: [...permissionIds]} : {}),
    Properties: properties,
  })
  parts.output('BucketName', {Description: 'The pipeline bucket', Value: ref(BUCKET_ID)})
}

export function addFolders(parts: TemplateParts, pipeline: Pipeline): void {
  const {functionId} = addFunction(parts, {
    stem: 'Folders',
    name: functionName(pipeline.name, 'folders'),
    description: `ncap ${pipeline.name}: makes the group folders, empties the bucket when the stack is deleted`,
    asset: 'lambda_repo/folders',
    handler: 'index.handler',
    timeout: 900,
    statements: [
      {
        Sid: 'BucketObjects',
        Effect: 'Allow',
        // Emptying the bucket on delete: every object, version, delete marker and unfinished upload.
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
        Resource: bucketArn(pipeline, '*'),
      },
      {
        Sid: 'BucketListing',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
        Resource: bucketArn(pipeline),
      },
    ],
  })
  parts.resource(FOLDERS_ID, {
    Type: 'Custom::BucketFolders',
    Properties: {
      ServiceToken: getAtt(functionId, 'Arn'),
      BucketName: ref(BUCKET_ID),
      Groups: pipeline.groups.map((g) => g.name),
      GroupFolders: groupFolders(pipeline),
      LogFolder: pipeline.instance.logDir,
    },
  })
}
