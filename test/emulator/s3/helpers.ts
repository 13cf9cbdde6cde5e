/** Shared set-up for the S3 tests: an emulator on a fresh state folder and an SDK v3 client for it. */

import {mkdtemp, readdir} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {S3Client} from '@aws-sdk/client-s3'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

export interface S3Fixture {
  server: RunningServer
  s3: S3Client
  stateDir: string
}

export function clientFor(endpoint: string, extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: {accessKeyId: 'test', secretAccessKey: 'test'},
    ...extra,
  })
}

export async function startS3(stateDir?: string): Promise<S3Fixture> {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'ncap-s3-')))
  const server = await startServer({stateDir: dir, port: 0})
  return {server, s3: clientFor(server.endpoint), stateDir: dir}
}

/** Every file path under a folder, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
}

/** The error an SDK call rejects with, for asserting its name and status. */
export async function failure(promise: Promise<unknown>): Promise<{name: string; status?: number; message: string}> {
  try {
    await promise
  } catch (error) {
    const e = error as {name: string; message: string; $metadata?: {httpStatusCode?: number}}
    return {name: e.name, message: e.message, status: e.$metadata?.httpStatusCode}
  }
  throw new Error('expected the call to fail, but it succeeded')
}
