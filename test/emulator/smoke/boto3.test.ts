/**
 * Smoke: boto3 (pyenv's Python 3.11) drives the emulator in a child process;
 * the script prints one JSON report of what it saw, asserted here.
 */
import {execFile} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import test from 'ava'
import {startServer} from '../../../src/emulator/server.js'

const script = join(dirname(fileURLToPath(import.meta.url)), 'boto3_smoke.py')

test('boto3: S3 objects and multipart, IAM users and keys, STS identities, errors by code', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ncap-smoke-boto3-'))
  const server = await startServer({stateDir: join(work, 'state'), port: 0})
  t.teardown(() => server.close())
  const {stdout, stderr, code} = await new Promise<{stdout: string; stderr: string; code: number}>((done) => {
    execFile(
      'python3',
      [script, server.endpoint],
      {env: {...process.env, SMOKE_WORK: work, AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none')}},
      (error, out, err) => done({stdout: out, stderr: err, code: error ? 1 : 0}),
    )
  })
  t.is(code, 0, stderr)
  const report = JSON.parse(stdout)
  t.deepEqual(report.get, {body: 'hello from boto3', contentType: 'text/plain'})
  t.is(report.big.size, 12 * 1024 * 1024)
  t.regex(report.big.etag, /^"[0-9a-f]{32}-2"$/)
  t.true(report.big.sameBytes)
  t.deepEqual(report.list, ['notes/hello.txt'])
  t.deepEqual(report.buckets, ['smoke-boto3'])
  t.is(report.missingKey, 'NoSuchKey')
  t.is(report.missingBucket, 'NoSuchBucket')
  t.is(report.root, 'arn:aws:iam::000000000000:root')
  t.true(report.users.includes('smoke-bob'))
  t.is(report.bob, 'arn:aws:iam::000000000000:user/smoke-bob')
  t.is(report.badSecret, 'SignatureDoesNotMatch')
  t.is(report.duplicateUser, 'EntityAlreadyExists')
  t.is(report.deletedUser, 'NoSuchEntity')
})
