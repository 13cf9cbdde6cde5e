/**
 * COMMAND's `{}` slots, filled in order with the bucket, the data key, the job's
 * result path relative to the group folder (`<OUTDIR>/<job>`) and the config key:
 * the values NeuroCAAS's images and the seed's reference executable read.
 */
export function fillCommand(command: string, slots: number, values: readonly string[]): string {
  let i = 0
  const limit = Math.min(slots, values.length)
  return command.replace(/\{\}/g, (slot) => (i < limit ? values[i++]! : slot))
}

/** SSM's workingDirectory does not expand `~`: NeuroCAAS's images are Ubuntu, whose home is /home/ubuntu. */
export function workingDirectory(dir: string): string | undefined {
  const trimmed = dir.trim()
  if (trimmed === '') return undefined
  if (trimmed === '~') return '/home/ubuntu'
  if (trimmed.startsWith('~/')) return `/home/ubuntu/${trimmed.slice(2)}`
  return trimmed
}
