/** Shared set-up of the Lambda tests: an emulator, SDK clients, zips made with yazl, roles Lambda may assume. */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import * as iam from '@aws-sdk/client-iam'
import * as lambda from '@aws-sdk/client-lambda'
import type {ExecutionContext} from 'ava'
import yazl from 'yazl'
import type {LogsInternal} from '../../../src/emulator/internal.js'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'
import type {EmulatedService, ServiceFactory} from '../../../src/emulator/types.js'

export const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
export const region = 'us-east-1'

export const TRUST_LAMBDA = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})
export const TRUST_EC2 = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Principal: {Service: 'ec2.amazonaws.com'}, Action: 'sts:AssumeRole'}],
})

/** A zip of files (name → text) made with yazl; executable bits kept for names ending in .sh. */
export function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, text] of Object.entries(files))
    zip.addBuffer(Buffer.from(text), name, {mode: name.endsWith('.sh') ? 0o100755 : 0o100644})
  zip.end()
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk))
    zip.outputStream.on('end', () => done(Buffer.concat(chunks)))
    zip.outputStream.on('error', fail)
  })
}

export interface LogLine {
  region: string
  group: string
  stream: string
  timestamp: number
  message: string
}

/**
 * A stand-in for the CloudWatch Logs service's internal API (mocked: the Logs
 * service is written in parallel); it only collects what Lambda appends.
 */
export function fakeLogs(lines: LogLine[]): ServiceFactory {
  const internal: LogsInternal = {
    append(region, group, stream, events) {
      for (const event of events) lines.push({region, group, stream, ...event})
    },
  }
  return (): EmulatedService => ({
    signingName: 'logs',
    internal,
    async handle() {
      throw new Error('the fake logs service serves no requests')
    },
  })
}

export interface Emulator {
  server: RunningServer
  stateDir: string
  lambda: lambda.LambdaClient
  iam: iam.IAMClient
  logs: LogLine[]
  close(): Promise<void>
}

export async function emulator(options: {stateDir?: string; keep?: boolean; realLogs?: boolean} = {}): Promise<Emulator> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'ncap-lambda-')))
  const logs: LogLine[] = []
  const server = await startServer({stateDir, port: 0, ...(options.realLogs ? {} : {services: {logs: fakeLogs(logs)}}), log: () => {}})
  const config = {endpoint: server.endpoint, region, credentials}
  return {
    server,
    stateDir,
    lambda: new lambda.LambdaClient(config),
    iam: new iam.IAMClient(config),
    logs,
    async close() {
      await server.close()
      if (!options.keep) await rm(stateDir, {recursive: true, force: true})
    },
  }
}

/** A role Lambda may assume, with an inline policy when given. */
export async function lambdaRole(client: iam.IAMClient, name: string, policy?: unknown): Promise<string> {
  const made = await client.send(new iam.CreateRoleCommand({RoleName: name, AssumeRolePolicyDocument: TRUST_LAMBDA}))
  if (policy)
    await client.send(new iam.PutRolePolicyCommand({RoleName: name, PolicyName: 'inline', PolicyDocument: JSON.stringify(policy)}))
  return made.Role!.Arn!
}

export async function rejects(t: ExecutionContext, promise: Promise<unknown>, name: string, status?: number, message?: RegExp) {
  const error = await t.throwsAsync(promise)
  t.is(error?.name, name, error?.message)
  if (status !== undefined) t.is((error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode, status)
  if (message) t.regex(error?.message ?? '', message)
  return error
}

export const decode = (payload: Uint8Array | undefined) => (payload ? JSON.parse(Buffer.from(payload).toString('utf8')) : undefined)
