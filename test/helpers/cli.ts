/**
 * Runs ncap as a user would, in a child process: the built entry (bin/run.js)
 * when `npm run build` has made dist/ (as `npm test` does), else the tsx dev
 * entry. Never throws on a non-zero exit; the test asserts the code.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const sharedDir = resolve(repoRoot, '..', 'shared')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string
  timeoutMs?: number
}

/** The node arguments that start ncap: built when dist/ and the manifest exist (NCAP_TEST_DEV=1 forces the sources). */
export function cliEntry(): string[] {
  const built = existsSync(join(repoRoot, 'dist', 'commands')) && existsSync(join(repoRoot, 'oclif.manifest.json'))
  return built && process.env.NCAP_TEST_DEV !== '1'
    ? [join(repoRoot, 'bin', 'run.js')]
    : // tsx by its resolved URL, so the CLI can run from any working folder.
      [`--import=${import.meta.resolve('tsx')}`, '--no-warnings', join(repoRoot, 'bin', 'dev.js')]
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: {...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1', ...options.env},
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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', fail)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({code: code ?? (signal ? 128 : 1), stdout, stderr})
    })
    child.stdin.end(options.input ?? '')
  })
}
