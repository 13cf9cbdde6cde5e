/**
 * AWS CLI v2 (Debian's, at /usr/bin/aws) driven against an endpoint, as the smoke
 * tests do: the admin key, no user config or credentials files, no pager, JSON
 * output. Never throws on a non-zero exit; the test asserts the code.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'

export const AWS_V2 = '/usr/bin/aws'
export const hasAwsV2 = existsSync(AWS_V2)

export interface AwsRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `aws --endpoint-url ENDPOINT --output json ARGS…` with HOME (and the CLI's files) under `home`. */
export function runAwsV2(endpoint: string, home: string, args: string[], options: {timeoutMs?: number} = {}): Promise<AwsRun> {
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_PAGER: '',
  }
  return new Promise((done) => {
    execFile(
      AWS_V2,
      ['--endpoint-url', endpoint, '--output', 'json', ...args],
      {env, maxBuffer: 16 << 20, timeout: options.timeoutMs ?? 120_000},
      (error, stdout, stderr) => {
        done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
      },
    )
  })
}
