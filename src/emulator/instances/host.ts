/**
 * What this host allows an instance: a private mount and pid namespace (root, or
 * unprivileged user namespaces) with the image overlaid as /home/ubuntu, or only
 * a folder of its own. Probed once per folder with a real `unshare` and a real
 * overlay mount, since containers and kernels differ in what they refuse.
 */
import {spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, rm} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

export interface HostAbilities {
  /** `unshare --mount --pid --fork --kill-child` works here. */
  namespaces: boolean
  /** An overlay mount works inside such a namespace on this folder's filesystem. */
  overlay: boolean
  /** `setpriv --pdeathsig KILL` is there to tie children to the emulator. */
  setpriv: boolean
  /** An empty folder present on every host, mounted over inside the namespace while the instance's view is assembled. */
  stage: string
}

const cache = new Map<string, Promise<HostAbilities>>()

export function which(program: string, skip: (dir: string) => boolean = () => false): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || skip(dir)) continue
    const candidate = join(dir, program)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

function run(command: string, args: string[]): Promise<{code: number | null; stdout: string}> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'ignore']})
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.once('error', () => resolve({code: -1, stdout}))
    child.once('close', (code) => resolve({code, stdout}))
  })
}

/** Probes the host once per parent folder (where instances keep their layers). */
export function hostAbilities(parentDir: string): Promise<HostAbilities> {
  let known = cache.get(parentDir)
  if (!known) {
    known = probe(parentDir)
    cache.set(parentDir, known)
  }
  return known
}

async function probe(parentDir: string): Promise<HostAbilities> {
  const setpriv = which('setpriv') !== undefined
  const stage = ['/media', '/mnt', '/srv', '/opt'].find((dir) => existsSync(dir)) ?? '/mnt'
  if (process.platform !== 'linux' || !which('unshare') || !which('nsenter')) return {namespaces: false, overlay: false, setpriv, stage}
  await mkdir(parentDir, {recursive: true})
  const dir = await mkdtemp(join(parentDir, '.probe-'))
  try {
    for (const sub of ['l', 'u', 'w', 'm']) await mkdir(join(dir, sub))
    const script = `mount -t overlay overlay -o lowerdir=${dir}/l,upperdir=${dir}/u,workdir=${dir}/w ${dir}/m 2>/dev/null && echo overlay; echo namespace`
    const {code, stdout} = await run('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', script])
    const namespaces = code === 0 && stdout.includes('namespace')
    return {namespaces, overlay: namespaces && stdout.includes('overlay'), setpriv, stage}
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** Whether `cp --reflink=always` works between these folders (btrfs, xfs with reflink): a copy that shares blocks until written. */
export function reflinkWorks(from: string, to: string): boolean {
  const result = spawnSync('cp', ['--reflink=always', '-a', '--', from, to], {stdio: 'ignore'})
  return result.status === 0
}
