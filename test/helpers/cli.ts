/**
 * Runs ncap as a user would, in a child process from the repository root:
 * `node --import=tsx bin/dev.js …`. Never throws on a non-zero exit; the test asserts the code.
 */
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function runCli(args: string[], options: {cwd?: string; env?: NodeJS.ProcessEnv; input?: string} = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import=tsx', '--no-warnings', join(repoRoot, 'bin', 'dev.js'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: {...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    child.on('error', fail)
    child.on('close', (code, signal) => done({code: code ?? (signal ? 128 : 1), stdout, stderr}))
    child.stdin.end(options.input ?? '')
  })
}
