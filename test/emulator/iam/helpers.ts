/** One emulator per test file, reached with the real SDK v3 clients. */
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {IAMClient} from '@aws-sdk/client-iam'
import {STSClient} from '@aws-sdk/client-sts'
import type {ExecutionContext} from 'ava'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

export interface Keys {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export const ADMIN: Keys = {accessKeyId: 'test', secretAccessKey: 'test'}

export async function emulator(stateDir?: string): Promise<{server: RunningServer; stateDir: string}> {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'ncap-iam-')))
  return {server: await startServer({stateDir: dir, port: 0}), stateDir: dir}
}

const config = (endpoint: string, credentials: Keys) => ({endpoint, region: 'us-east-1', credentials, maxAttempts: 1})

export const iamClient = (endpoint: string, credentials: Keys = ADMIN) => new IAMClient(config(endpoint, credentials))
export const stsClient = (endpoint: string, credentials: Keys = ADMIN) => new STSClient(config(endpoint, credentials))

/** Asserts that a call fails with the named AWS error (the SDK's exception name) and HTTP status. */
export async function rejects(t: ExecutionContext, call: Promise<unknown>, name: string, status?: number): Promise<void> {
  const error = await t.throwsAsync(call)
  t.is(error?.name, name, error?.message)
  if (status !== undefined) t.is((error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode, status)
}
