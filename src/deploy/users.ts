/**
 * The pipeline's users after a deploy: who is in which group and whether their
 * access key is active (`ncap users`), and each user's generated credentials,
 * read from Secrets Manager where the stack keeps them and written as an AWS
 * profile or a file, mode 0600 (`ncap users credentials`). Secrets are printed
 * only when asked.
 */
import {chmod, mkdir, readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import type {CloudFormationClient, StackResourceSummary} from '@aws-sdk/client-cloudformation'
import {createClient} from '../cloud/client.js'
import {NcapError, UsageError} from '../errors.js'
import {writeFileAtomic} from '../store/atomic.js'
import {type PipelineTarget, pipelineTarget, targetLabel} from './pipeline-target.js'
import type {SettingsFlags} from './settings.js'

export interface UserRow {
  user: string
  groups: string[]
  /** 'created' by this stack, 'existing' (referenced), or created by another pipeline of the workspace. */
  origin: 'created' | 'existing' | `created by ${string}`
  exists: boolean
  keys: {accessKeyId: string; status: string}[]
}

export async function listUsers(dir: string, flags: SettingsFlags): Promise<{pipeline: string; target: string; users: UserRow[]}> {
  const pt = await pipelineTarget(dir, flags)
  const {IAMClient, ListAccessKeysCommand} = await import('@aws-sdk/client-iam')
  const iam = createClient(IAMClient, pt.target)
  const users: UserRow[] = []
  for (const user of pt.pipeline.users) {
    const origin: UserRow['origin'] = !user.existing ? 'created' : user.createdBy ? `created by ${user.createdBy}` : 'existing'
    const answer = await iam.send(new ListAccessKeysCommand({UserName: user.name})).then(
      (a) => a,
      (error: Error) => {
        if (error.name === 'NoSuchEntity' || error.name === 'NoSuchEntityException') return undefined
        throw error
      },
    )
    users.push({
      user: user.name,
      groups: user.groups,
      origin,
      exists: answer !== undefined,
      keys: (answer?.AccessKeyMetadata ?? []).map((k) => ({accessKeyId: k.AccessKeyId ?? '', status: k.Status ?? ''})),
    })
  }
  return {pipeline: pt.pipeline.name, target: targetLabel(pt.settings), users}
}

/** Every resource of a stack and of its nested stacks. */
async function allResources(cfn: CloudFormationClient, stack: string): Promise<(StackResourceSummary & {stack: string})[]> {
  const {ListStackResourcesCommand} = await import('@aws-sdk/client-cloudformation')
  const out: (StackResourceSummary & {stack: string})[] = []
  let next: string | undefined
  do {
    const page = await cfn.send(new ListStackResourcesCommand({StackName: stack, NextToken: next}))
    for (const r of page.StackResourceSummaries ?? []) {
      out.push({...r, stack})
      if (r.ResourceType === 'AWS::CloudFormation::Stack' && r.PhysicalResourceId)
        out.push(...(await allResources(cfn, r.PhysicalResourceId)))
    }
    next = page.NextToken
  } while (next)
  return out
}

export interface UserCredentials {
  user: string
  accessKeyId: string
  secretAccessKey: string
  password?: string
  region: string
  /** The endpoint the credentials work against (absent on AWS). */
  endpoint?: string
}

export async function readCredentials(pt: PipelineTarget, userName: string): Promise<UserCredentials> {
  const declared = pt.pipeline.users.find((u) => u.name.toLowerCase() === userName.toLowerCase())
  if (!declared) {
    throw new UsageError(
      `${userName} is not a user of pipeline ${pt.pipeline.name}; its users: ${pt.pipeline.users.map((u) => u.name).join(', ')}`,
    )
  }
  if (declared.existing) {
    throw new NcapError(
      declared.createdBy
        ? `${declared.name} is created by pipeline ${declared.createdBy}: read its credentials there (ncap users credentials ${declared.name} <that pipeline's folder>)`
        : `${declared.name} already existed in the account (Ncap.ExistingUsers): ncap did not make its credentials`,
      {code: 'UserNotCreatedHere'},
    )
  }
  const {CloudFormationClient} = await import('@aws-sdk/client-cloudformation')
  const cfn = createClient(CloudFormationClient, pt.target)
  const resources = await allResources(cfn, pt.stackName).catch((error: Error) => {
    if (/does not exist/.test(error.message)) {
      throw new NcapError(`pipeline ${pt.pipeline.name} is not deployed on ${targetLabel(pt.settings)} (no stack ${pt.stackName})`, {
        code: 'StackNotFound',
        suggestions: ['ncap deploy'],
      })
    }
    throw error
  })
  const userResource = resources.find(
    (r) => r.ResourceType === 'AWS::IAM::User' && r.PhysicalResourceId?.toLowerCase() === declared.name.toLowerCase(),
  )
  if (!userResource?.LogicalResourceId) {
    throw new NcapError(`stack ${pt.stackName} has no IAM user ${declared.name}: deploy the pipeline again`, {code: 'UserNotDeployed'})
  }
  const secretOf = (suffix: string) =>
    resources.find((r) => r.stack === userResource.stack && r.LogicalResourceId === `${userResource.LogicalResourceId}${suffix}`)
      ?.PhysicalResourceId
  const keySecret = secretOf('AccessKeySecret')
  if (!keySecret) throw new NcapError(`stack ${pt.stackName} keeps no access key secret for ${declared.name}`, {code: 'UserNotDeployed'})
  const {SecretsManagerClient, GetSecretValueCommand} = await import('@aws-sdk/client-secrets-manager')
  const sm = createClient(SecretsManagerClient, pt.target)
  const key = JSON.parse((await sm.send(new GetSecretValueCommand({SecretId: keySecret}))).SecretString ?? '{}') as {
    accessKeyId?: string
    secretAccessKey?: string
  }
  if (!key.accessKeyId || !key.secretAccessKey)
    throw new NcapError(`the secret ${keySecret} holds no access key`, {code: 'SecretMalformed'})
  const passwordSecret = secretOf('PasswordSecret')
  const password = passwordSecret
    ? (JSON.parse((await sm.send(new GetSecretValueCommand({SecretId: passwordSecret}))).SecretString ?? '{}') as {password?: string})
        .password
    : undefined
  return {
    user: declared.name,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    ...(password ? {password} : {}),
    region: pt.target.region,
    ...(pt.target.endpoint ? {endpoint: pt.target.endpoint} : {}),
  }
}

/** The shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_SHARED_CREDENTIALS_FILE ? resolve(env.AWS_SHARED_CREDENTIALS_FILE) : join(homedir(), '.aws', 'credentials')
}

/** The shared config file: AWS_CONFIG_FILE, else ~/.aws/config. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_CONFIG_FILE ? resolve(env.AWS_CONFIG_FILE) : join(homedir(), '.aws', 'config')
}

/** The INI file with one section set (replaced if present), every other section and line kept. */
export function withProfile(text: string, profile: string, values: Record<string, string>): string {
  const lines = text.split('\n')
  const out: string[] = []
  let skipping = false
  for (const line of lines) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line)
    if (header) skipping = header[1]!.trim() === profile
    if (!skipping) out.push(line)
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  const section = [`[${profile}]`, ...Object.entries(values).map(([k, v]) => `${k} = ${v}`)]
  return `${out.length > 0 ? `${out.join('\n')}\n\n` : ''}${section.join('\n')}\n`
}

export interface CredentialsRequest {
  dir: string
  user: string
  flags: SettingsFlags
  /** Write into the shared credentials file under this profile. */
  profileName?: string
  /** Write a file of KEY=value lines (an env file) here. */
  out?: string
}

export interface CredentialsResult {
  user: string
  accessKeyId: string
  region: string
  endpoint?: string
  profile?: string
  file?: string
  credentials: UserCredentials
}

export async function userCredentials(request: CredentialsRequest): Promise<CredentialsResult> {
  const pt = await pipelineTarget(request.dir, request.flags)
  const creds = await readCredentials(pt, request.user)
  const result: CredentialsResult = {
    user: creds.user,
    accessKeyId: creds.accessKeyId,
    region: creds.region,
    ...(creds.endpoint ? {endpoint: creds.endpoint} : {}),
    credentials: creds,
  }
  if (request.profileName) {
    const file = credentialsFile()
    await mkdir(dirname(file), {recursive: true, mode: 0o700})
    const before = await readFile(file, 'utf8').catch(() => '')
    const values: Record<string, string> = {aws_access_key_id: creds.accessKeyId, aws_secret_access_key: creds.secretAccessKey}
    await writeFileAtomic(file, withProfile(before, request.profileName, values), 0o600)
    await chmod(file, 0o600)
    // Region and endpoint belong in the config file, where the AWS CLI and the SDKs read them.
    const config = configFile()
    const section = request.profileName === 'default' ? 'default' : `profile ${request.profileName}`
    const settings: Record<string, string> = {region: creds.region, ...(creds.endpoint ? {endpoint_url: creds.endpoint} : {})}
    await writeFileAtomic(config, withProfile(await readFile(config, 'utf8').catch(() => ''), section, settings), 0o600)
    result.profile = request.profileName
    result.file = file
  }
  if (request.out) {
    const file = resolve(request.out)
    const lines = [
      `AWS_ACCESS_KEY_ID=${creds.accessKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`,
      `AWS_REGION=${creds.region}`,
      ...(creds.endpoint ? [`AWS_ENDPOINT_URL=${creds.endpoint}`] : []),
      ...(creds.password ? [`NCAP_CONSOLE_PASSWORD=${creds.password}`] : []),
    ]
    await mkdir(dirname(file), {recursive: true})
    await writeFileAtomic(file, `${lines.join('\n')}\n`, 0o600)
    await chmod(file, 0o600)
    result.file = file
  }
  return result
}
