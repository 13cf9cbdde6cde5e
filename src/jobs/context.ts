/**
 * Where a job command works: the deployed pipeline (its config, the settings of
 * its last deploy, the target), its bucket, and who the command acts as. Reads
 * (jobs, status, logs, results) use the target's own credentials; what a lab
 * member does (submit, cancel) is done as a user of the group, so it obeys that
 * user's IAM policy: `--as-user` (the key from Secrets Manager), a profile
 * written by `ncap users credentials`, or on the emulator the group's first user.
 */
import type {S3Client} from '@aws-sdk/client-s3'
import {createClient} from '../cloud/client.js'
import type {Credentials, Target} from '../cloud/target.js'
import type {Group, Pipeline} from '../config/model.js'
import {type PipelineTarget, pipelineTarget, targetLabel} from '../deploy/pipeline-target.js'
import type {SettingsFlags} from '../deploy/settings.js'
import {readCredentials} from '../deploy/users.js'
import {NcapError, UsageError} from '../errors.js'

export interface JobFlags extends SettingsFlags {
  dir?: string
  group?: string
  'as-user'?: string
}

export interface JobContext extends PipelineTarget {
  bucket: string
  /** The target's own S3 client (the deployer's credentials). */
  s3: S3Client
  /** Polling interval suited to the target. */
  pollMs: number
}

export async function jobContext(flags: JobFlags): Promise<JobContext> {
  const pt = await pipelineTarget(flags.dir ?? '.', flags)
  const {S3Client} = await import('@aws-sdk/client-s3')
  return {...pt, bucket: pt.pipeline.name, s3: createClient(S3Client, pt.target), pollMs: pt.target.kind === 'aws' ? 2000 : 150}
}

/** The group a command acts on: --group, else the pipeline's only group; a group the pipeline lacks is a usage error. */
export function chooseGroup(pipeline: Pipeline, name: string | undefined): Group {
  if (name !== undefined) {
    const group = pipeline.groups.find((g) => g.name === name)
    if (!group) {
      throw new UsageError(`pipeline ${pipeline.name} has no group ${name}; its groups: ${pipeline.groups.map((g) => g.name).join(', ')}`, {
        suggestions: pipeline.groups.map((g) => `--group ${g.name}`),
      })
    }
    return group
  }
  if (pipeline.groups.length === 1) return pipeline.groups[0]!
  throw new UsageError(`pipeline ${pipeline.name} has ${pipeline.groups.length} groups: say which with --group`, {
    suggestions: pipeline.groups.map((g) => `--group ${g.name}`),
  })
}

export interface Actor {
  /** Who, for messages: alice, profile alice, or the target's own credentials. */
  label: string
  user?: string
  s3: S3Client
}

/** The S3 client of the user a lab member's command acts as. */
export async function actAs(ctx: JobContext, group: Group, flags: JobFlags): Promise<Actor> {
  const {S3Client} = await import('@aws-sdk/client-s3')
  const userTarget = (credentials: Credentials | Target['credentials']): Target => ({...ctx.target, credentials})
  if (flags.profile && !flags['as-user']) {
    // A profile (one `ncap users credentials --profile` wrote, or the lab member's own on AWS) acts as that user.
    const {fromIni} = await import('@aws-sdk/credential-providers')
    const profile = flags.profile
    return {label: `profile ${profile}`, s3: createClient(S3Client, userTarget(fromIni({profile})))}
  }
  let user = flags['as-user']
  if (!user) {
    if (ctx.target.kind === 'aws') {
      // On AWS the deployer's own credentials act; a lab member uses their profile.
      return {label: `the ${targetLabel(ctx.settings)} credentials`, s3: ctx.s3}
    }
    user = group.userNames[0]
    if (!user) throw new NcapError(`group ${group.name} has no users to act as`, {code: 'NoUser'})
  }
  const credentials = await readCredentials(ctx, user)
  return {
    label: credentials.user,
    user: credentials.user,
    s3: createClient(S3Client, userTarget({accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey})),
  }
}

/** An AccessDenied from S3, told as the user's IAM policy refusing them. */
export function deniedAs(error: unknown, actor: Actor, what: string): Error {
  const e = error as Error & {name?: string; $metadata?: {httpStatusCode?: number}}
  if (e?.name === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403) {
    return new NcapError(`${actor.label} may not ${what}: refused by ${actor.user ? 'their' : 'its'} IAM policy (AccessDenied)`, {
      code: 'AccessDenied',
      exitCode: 1,
    })
  }
  return error as Error
}
