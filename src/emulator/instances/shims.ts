/**
 * The programs first on an instance's PATH: `sudo` (we already run as root, so
 * it runs the command), `poweroff`/`halt`/`shutdown`/`reboot`/`systemctl
 * poweroff` (they ask the emulator, through the instance's metadata endpoint,
 * to end or restart the instance by its shutdown behaviour), and `aws` (the
 * host's AWS CLI with the emulator's endpoint added, or ncap's Node stand-in
 * when the host has none).
 */
import {existsSync} from 'node:fs'
import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {which} from './host.js'

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`

/** The stand-in's script: the .js beside this module when built, else the .ts run through tsx. */
export function standInScript(): string {
  const js = fileURLToPath(new URL('./aws-standin.js', import.meta.url))
  return existsSync(js) ? js : fileURLToPath(new URL('./aws-standin.ts', import.meta.url))
}

/** Node flags for the stand-in: tsx's loader, by absolute URL (the instance's working folder has no node_modules), when run from sources. */
export function nodeFlags(): string[] {
  return standInScript().endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []
}

/** The AWS CLI an instance's `aws` wraps: NCAP_INSTANCE_AWS=standin forces the stand-in, a path picks one. */
export function hostAwsCli(shimDir: string): string | undefined {
  const forced = process.env.NCAP_INSTANCE_AWS
  if (forced === 'standin') return undefined
  if (forced && existsSync(forced)) return forced
  return which('aws', (dir) => dir === shimDir || dir.includes('/.ncap/'))
}

export interface ShimOptions {
  /** The shims' folder on the host. */
  dir: string
  /** The same folder as processes inside the instance see it (/home/.ncap/bin in a namespace). */
  viewDir: string
  /** The metadata endpoint's port and control path (shutdown requests). */
  port: number
  controlPath: string
  /** The AWS CLI to wrap; the stand-in when undefined. */
  awsCli: string | undefined
}

export async function writeShims(options: ShimOptions): Promise<void> {
  const {dir, viewDir, port, controlPath, awsCli} = options
  await mkdir(dir, {recursive: true})
  const request = (kind: string) =>
    [
      `if exec 3<>/dev/tcp/127.0.0.1/${port}; then`,
      `  printf 'POST ${controlPath}/shutdown?kind=${kind} HTTP/1.0\\r\\nContent-Length: 0\\r\\n\\r\\n' >&3`,
      '  cat <&3 >/dev/null',
      'fi',
    ].join('\n')
  const files: Record<string, string> = {
    sudo: [
      '#!/bin/bash',
      '# ncap: instances run as root, so sudo runs its command (options skipped).',
      'while [ $# -gt 0 ]; do',
      '  case "$1" in',
      '    --) shift; break ;;',
      '    -u|-g|-C|-h|-p|-r|-t|-U|-D) shift 2 ;;',
      '    -*) shift ;;',
      '    *) break ;;',
      '  esac',
      'done',
      '[ $# -eq 0 ] && exit 0',
      'exec env -- "$@"',
    ].join('\n'),
    poweroff: ['#!/bin/bash', '# ncap: ends the instance by its shutdown behaviour.', request('poweroff'), 'exit 0'].join('\n'),
    reboot: ['#!/bin/bash', '# ncap: restarts the instance.', request('reboot'), 'exit 0'].join('\n'),
    shutdown: [
      '#!/bin/bash',
      '# ncap: shutdown [-h|-P|-H|-r|-c] [TIME] [MESSAGE]; -c cancels nothing pending.',
      'kind=poweroff',
      'for arg in "$@"; do',
      '  case "$arg" in',
      '    -r|--reboot) kind=reboot ;;',
      '    -c) exit 0 ;;',
      '  esac',
      'done',
      `if [ "$kind" = reboot ]; then exec ${quote(join(viewDir, 'reboot'))}; fi`,
      `exec ${quote(join(viewDir, 'poweroff'))}`,
    ].join('\n'),
    systemctl: [
      '#!/bin/bash',
      '# ncap: only the power verbs of systemctl mean something in an instance.',
      'case "$1" in',
      `  poweroff|halt|shutdown) exec ${quote(join(viewDir, 'poweroff'))} ;;`,
      `  reboot) exec ${quote(join(viewDir, 'reboot'))} ;;`,
      '  *) echo "systemctl: the ncap instance has no systemd; only poweroff, halt and reboot work." >&2; exit 1 ;;',
      'esac',
    ].join('\n'),
    aws: awsCli
      ? [
          '#!/bin/bash',
          '# ncap: the host AWS CLI, told the emulator endpoint (some v2 releases ignore AWS_ENDPOINT_URL).',
          'for arg in "$@"; do',
          `  case "$arg" in --endpoint-url|--endpoint-url=*) exec ${quote(awsCli)} "$@" ;; esac`,
          'done',
          `exec ${quote(awsCli)} --endpoint-url "$AWS_ENDPOINT_URL" "$@"`,
        ].join('\n')
      : [
          '#!/bin/bash',
          '# ncap: no AWS CLI on this host; a stand-in for the aws s3 and aws sts commands pipeline scripts use.',
          `exec ${[process.execPath, '--no-warnings', ...nodeFlags(), standInScript()].map(quote).join(' ')} "$@"`,
        ].join('\n'),
  }
  files.halt = files.poweroff!
  await Promise.all(
    Object.entries(files).map(async ([name, body]) => {
      const path = join(dir, name)
      await writeFile(path, `${body}\n`)
      await chmod(path, 0o755)
    }),
  )
}
