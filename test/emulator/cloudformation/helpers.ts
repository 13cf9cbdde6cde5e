/** Shared set-up for the CloudFormation tests: an emulator on a fresh state folder and SDK v3 clients for it. */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation'
import {IAMClient} from '@aws-sdk/client-iam'
import {S3Client} from '@aws-sdk/client-s3'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

export const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
export const region = 'us-east-1'

export interface CfnFixture {
  server: RunningServer
  stateDir: string
  cfn: CloudFormationClient
  s3: S3Client
  iam: IAMClient
}

export async function startCfn(stateDir?: string): Promise<CfnFixture> {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'ncap-cfn-')))
  const server = await startServer({stateDir: dir, port: 0})
  const endpoint = server.endpoint
  return {
    server,
    stateDir: dir,
    cfn: new CloudFormationClient({endpoint, region, credentials}),
    s3: new S3Client({endpoint, region, credentials, forcePathStyle: true}),
    iam: new IAMClient({endpoint, region, credentials}),
  }
}

const TERMINAL = /(_COMPLETE|_FAILED)$/

/** Polls DescribeStacks until the stack leaves every *_IN_PROGRESS state. */
export async function settled(cfn: CloudFormationClient, stackName: string, timeoutMs = 60_000): Promise<Stack> {
  const start = Date.now()
  for (;;) {
    const {Stacks} = await cfn.send(new DescribeStacksCommand({StackName: stackName}))
    const stack = Stacks![0]!
    if (TERMINAL.test(stack.StackStatus!) && !stack.StackStatus!.endsWith('CLEANUP_IN_PROGRESS')) return stack
    if (Date.now() - start > timeoutMs) throw new Error(`stack ${stackName} still ${stack.StackStatus} after ${timeoutMs} ms`)
    await new Promise((done) => setTimeout(done, 25))
  }
}

/** Every event of a stack, oldest first. */
export async function eventsOf(cfn: CloudFormationClient, stackName: string): Promise<StackEvent[]> {
  const out: StackEvent[] = []
  let token: string | undefined
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({StackName: stackName, NextToken: token}))
    out.push(...(page.StackEvents ?? []))
    token = page.NextToken
  } while (token)
  return out.reverse()
}

/** The error an SDK call rejects with, for asserting its name and message. */
export async function failure(promise: Promise<unknown>): Promise<{name: string; status?: number; message: string}> {
  try {
    await promise
  } catch (error) {
    const e = error as {name: string; message: string; $metadata?: {httpStatusCode?: number}}
    return {name: e.name, message: e.message, status: e.$metadata?.httpStatusCode}
  }
  throw new Error('expected the call to fail, but it succeeded')
}

export const body = (template: unknown) => JSON.stringify(template)
