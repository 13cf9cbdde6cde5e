/** One emulator per test file with a registered image folder, and an EC2 client on it. */

import {chmod, mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {EC2Client} from '@aws-sdk/client-ec2'
import {type RunningServer, type StartServerOptions, startServer} from '../../../src/emulator/server.js'
import {type ImageRecord, registerImage} from '../../../src/emulator/services/ec2/images.js'

export interface Ec2Fixture {
  work: string
  stateDir: string
  server: RunningServer
  ec2: EC2Client
  image: ImageRecord
  imageDir: string
}

/** An image folder in the seed's layout: bin/run.sh writes a line and exits. */
export async function makeImageFolder(dir: string): Promise<string> {
  await mkdir(join(dir, 'bin'), {recursive: true})
  await writeFile(join(dir, 'bin', 'run.sh'), '#!/bin/bash\necho "run.sh ran in $(pwd) with $*"\n')
  await chmod(join(dir, 'bin', 'run.sh'), 0o755)
  await writeFile(join(dir, 'README'), 'an analysis image\n')
  return dir
}

export const clientFor = (endpoint: string, region = 'us-east-1') =>
  new EC2Client({endpoint, region, credentials: {accessKeyId: 'test', secretAccessKey: 'test'}, maxAttempts: 1})

export async function startEc2(prefix: string, options: Partial<StartServerOptions> = {}, stateDir?: string): Promise<Ec2Fixture> {
  const work = await mkdtemp(join(tmpdir(), `ncap-ec2-${prefix}-`))
  const state = stateDir ?? join(work, 'state')
  const imageDir = await makeImageFolder(join(work, 'image'))
  const image = await registerImage(state, {dir: imageDir, name: `${prefix}-image`})
  const server = await startServer({stateDir: state, port: 0, log: () => {}, ...options})
  return {work, stateDir: state, server, ec2: clientFor(server.endpoint), image, imageDir}
}

/** Polls until `check` holds (instances boot in the background). */
export async function until<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (check(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
