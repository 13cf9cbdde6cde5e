/**
 * `ncap emulator images add/list/remove` as a user runs them (a child process),
 * with and without a running emulator: ids are deterministic from the folder,
 * --image-id and --name are kept, a running emulator's DescribeImages sees
 * changes at once, and bad input exits 2 with the reason.
 */

import {mkdir, mkdtemp, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DescribeImagesCommand, EC2Client} from '@aws-sdk/client-ec2'
import test from 'ava'
import {startServer} from '../../src/emulator/server.js'
import {runCli} from '../helpers/cli.js'

let work = ''
let stateDir = ''
let image = ''

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ncap-images-cli-'))
  stateDir = join(work, 'state')
  image = join(work, 'analysis')
  await mkdir(join(image, 'bin'), {recursive: true})
  await writeFile(join(image, 'bin', 'run.sh'), '#!/bin/bash\necho ok\n')
})

const cli = (...args: string[]) => runCli(['emulator', 'images', ...args, '--state-dir', stateDir])

test.serial('add, list --json and remove without a running emulator; the id is the same for the same folder', async (t) => {
  const added = await cli('add', image, '--json')
  t.is(added.code, 0, added.stderr)
  const record = JSON.parse(added.stdout) as {ImageId: string; Name: string; Dir: string; RootSizeGiB: number}
  t.regex(record.ImageId, /^ami-[0-9a-f]{17}$/)
  t.is(record.Name, 'analysis')
  t.is(record.RootSizeGiB, 1)
  const again = await cli('add', image, '--json')
  t.is(JSON.parse(again.stdout).ImageId, record.ImageId)
  const listed = await cli('list', '--json')
  t.deepEqual(
    (JSON.parse(listed.stdout) as {ImageId: string}[]).map((i) => i.ImageId),
    [record.ImageId],
  )
  const human = await cli('list')
  t.regex(human.stdout, new RegExp(`${record.ImageId}\\s+analysis\\s+1 GiB`))
  const removed = await cli('remove', record.ImageId)
  t.is(removed.code, 0, removed.stderr)
  t.regex(removed.stdout, /untouched/)
  t.deepEqual(JSON.parse((await cli('list', '--json')).stdout), [])
})

test.serial('bad input exits 2 with the reason', async (t) => {
  const badId = await cli('add', image, '--image-id', 'ami-xyz')
  t.is(badId.code, 2)
  t.regex(badId.stderr, /Invalid image id 'ami-xyz'/)
  const noFolder = await cli('add', join(work, 'missing'))
  t.is(noFolder.code, 2)
  t.regex(noFolder.stderr, /does not exist/)
  const unknown = await cli('remove', 'ami-0123456789abcdef0')
  t.is(unknown.code, 2)
  t.regex(unknown.stderr, /No image ami-0123456789abcdef0/)
})

test.serial('a running emulator sees images added and removed while it runs', async (t) => {
  const server = await startServer({stateDir, port: 0, log: () => {}})
  t.teardown(() => server.close())
  const ec2 = new EC2Client({endpoint: server.endpoint, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
  t.deepEqual((await ec2.send(new DescribeImagesCommand({}))).Images, [])
  const added = await cli('add', image, '--image-id', 'ami-0123456789abcdef0', '--name', 'analysis-v2')
  t.is(added.code, 0, added.stderr)
  const {Images} = await ec2.send(new DescribeImagesCommand({ImageIds: ['ami-0123456789abcdef0']}))
  t.is(Images?.[0]?.Name, 'analysis-v2')
  await cli('remove', 'ami-0123456789abcdef0')
  const error = await ec2.send(new DescribeImagesCommand({ImageIds: ['ami-0123456789abcdef0']})).catch((e: Error) => e)
  t.is((error as Error).name, 'InvalidAMIID.NotFound')
})
