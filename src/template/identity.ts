// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is CloudFormation Fn::Sub syntax, not a JS template
/**
 * Per-group IAM groups with least-privilege inline policies, the users each group
 * creates (login profile, access key, both secrets kept in Secrets Manager and only
 * their ARNs in Outputs), and additions of users that already exist.
 *
 * Resources come in units (one group, or one user) so that nested.ts can spread a
 * large pipeline's identity over several templates.
 */
import type {Group, Pipeline, User} from '../config/model.js'
import type {PolicyStatement} from './functions.js'
import {iamGroupName, LogicalIds} from './names.js'
import {CONFIGS_DIR, SUBMISSIONS_DIR} from './storage.js'
import {type Output, type Resource, ref, sub} from './types.js'

/** The bucket as a policy sees it: a literal name, or a template variable (a parameter or the bucket's logical id). */
export type BucketName = {literal: string} | {variable: string}

/** Characters the generated password leaves out: quoting and shell trouble on a command line. */
export const PASSWORD_EXCLUDED_CHARACTERS = '"\'`\\/@$&|;<>(){}[]*?!#%^~,:= '

function s3Arn(bucket: BucketName, path?: string): unknown {
  const tail = path === undefined ? '' : `/${path}`
  return 'literal' in bucket ? `arn:aws:s3:::${bucket.literal}${tail}` : sub(`arn:\${AWS::Partition}:s3:::\${${bucket.variable}}${tail}`)
}

/**
 * What a group's users may do: put into their own inputs/, configs/ and
 * submissions/, read their own results/ and configs/, list only their own prefix,
 * and change their own password. Each ARN is its own string.
 */
export function groupPolicyDocument(
  bucket: BucketName,
  group: string,
  folders: {inDir: string; outDir: string},
): {Version: string; Statement: PolicyStatement[]} {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PutOwnUploads',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
        Resource: [
          s3Arn(bucket, `${group}/${folders.inDir}/*`),
          s3Arn(bucket, `${group}/${CONFIGS_DIR}/*`),
          s3Arn(bucket, `${group}/${SUBMISSIONS_DIR}/*`),
        ],
      },
      {
        Sid: 'GetOwnResults',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [s3Arn(bucket, `${group}/${folders.outDir}/*`), s3Arn(bucket, `${group}/${CONFIGS_DIR}/*`)],
      },
      {
        Sid: 'ListOwnPrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: s3Arn(bucket),
        Condition: {StringLike: {'s3:prefix': [`${group}/*`, `${group}/`]}},
      },
      {
        Sid: 'ChangeOwnPassword',
        Effect: 'Allow',
        Action: 'iam:ChangePassword',
        Resource: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${!aws:username}'),
      },
      // GetAccountPasswordPolicy has no resource-level permissions: '*' is the only resource it accepts.
      {Sid: 'ReadPasswordPolicy', Effect: 'Allow', Action: 'iam:GetAccountPasswordPolicy', Resource: '*'},
    ],
  }
}

/** A set of resources and outputs that must stay in one template: a group (with its existing members), or a user it creates. */
export type IdentityUnit = {kind: 'group'; group: Group; existingUsers: string[]} | {kind: 'user'; user: User}

const USER_SUFFIXES = ['PasswordSecret', 'AccessKey', 'AccessKeySecret', 'PasswordSecretArn', 'AccessKeySecretArn']

export class IdentityIds {
  private readonly groups = new LogicalIds('Group', ['ExistingUsers'])
  // A user named like another's derived id ("user21-password-secret") must not collide with it.
  private readonly users = new LogicalIds('User', USER_SUFFIXES)

  groupId(name: string): string {
    return this.groups.idFor(name)
  }

  userId(name: string): string {
    return this.users.idFor(name)
  }
}

export interface IdentityContext {
  pipeline: Pipeline
  ids: IdentityIds
  bucket: BucketName
  /** How a user unit names a group: Ref when the group is in the same template, else its physical name. */
  groupName: (group: string) => unknown
}

export function identityUnits(pipeline: Pipeline): IdentityUnit[] {
  const existing = new Map<string, string[]>()
  for (const user of pipeline.users) {
    if (!user.existing) continue
    for (const group of user.groups) existing.set(group, [...(existing.get(group) ?? []), user.name])
  }
  const units: IdentityUnit[] = pipeline.groups.map((group) => ({kind: 'group', group, existingUsers: existing.get(group.name) ?? []}))
  for (const user of pipeline.users) if (!user.existing) units.push({kind: 'user', user})
  return units
}

export function unitContent(
  context: IdentityContext,
  unit: IdentityUnit,
): {resources: Record<string, Resource>; outputs: Record<string, Output>} {
  return unit.kind === 'group'
    ? {resources: groupResources(context, unit.group, unit.existingUsers), outputs: {}}
    : userContent(context, unit.user)
}

function groupResources(context: IdentityContext, group: Group, existing: string[]): Record<string, Resource> {
  const {pipeline, ids} = context
  const id = ids.groupId(group.name)
  const resources: Record<string, Resource> = {
    [id]: {
      Type: 'AWS::IAM::Group',
      Properties: {
        GroupName: iamGroupName(pipeline.name, group.name),
        Policies: [{PolicyName: 'ncap-group-access', PolicyDocument: groupPolicyDocument(context.bucket, group.name, pipeline.instance)}],
      },
    },
  }
  if (existing.length > 0) {
    resources[`${id}ExistingUsers`] = {
      Type: 'AWS::IAM::UserToGroupAddition',
      Properties: {GroupName: ref(id), Users: existing},
    }
  }
  return resources
}

function userContent(context: IdentityContext, user: User): {resources: Record<string, Resource>; outputs: Record<string, Output>} {
  const {pipeline, ids} = context
  const id = ids.userId(user.name)
  const password = `${id}PasswordSecret`
  const key = `${id}AccessKey`
  const keySecret = `${id}AccessKeySecret`
  const resources: Record<string, Resource> = {
    [password]: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: `ncap ${pipeline.name}: console password of IAM user ${user.name}`,
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({username: user.name}),
          GenerateStringKey: 'password',
          PasswordLength: 24,
          ExcludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
          RequireEachIncludedType: true,
        },
      },
    },
    [id]: {
      Type: 'AWS::IAM::User',
      Properties: {
        UserName: user.name,
        Groups: user.groups.map((g) => context.groupName(g)),
        LoginProfile: {
          Password: sub(`{{resolve:secretsmanager:\${${password}}:SecretString:password}}`),
          PasswordResetRequired: true,
        },
      },
    },
    [key]: {Type: 'AWS::IAM::AccessKey', Properties: {UserName: ref(id), Status: 'Active'}},
    [keySecret]: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: `ncap ${pipeline.name}: access key of IAM user ${user.name}`,
        SecretString: sub(`{"accessKeyId":"\${${key}}","secretAccessKey":"\${${key}.SecretAccessKey}"}`),
      },
    },
  }
  const outputs: Record<string, Output> = {
    [`${id}PasswordSecretArn`]: {Description: `Secret holding the console password of ${user.name}`, Value: ref(password)},
    [`${id}AccessKeySecretArn`]: {Description: `Secret holding the access key of ${user.name}`, Value: ref(keySecret)},
  }
  return {resources, outputs}
}

/** The group ids' physical names, for templates that hold users but not their groups. */
export function groupPhysicalName(pipeline: Pipeline, group: string): string {
  return iamGroupName(pipeline.name, group)
}
