/**
 * `ncap results`: a job's process_results/ downloaded into a folder, each file
 * verified against its size and ETag, with progress; files already downloaded
 * whole are skipped, so an interrupted download resumes.
 */
import {join, resolve, sep} from 'node:path'
import {Bucket} from '../../lambda_repo/lib/store.js'
import {NcapError} from '../errors.js'
import type {JobContext} from './context.js'
import type {JobView} from './read.js'
import {downloadVerified, type Progress} from './transfer.js'

export interface ResultsResult {
  jobId: string
  out: string
  files: {key: string; file: string; bytes: number; skipped: boolean}[]
}

export async function downloadResults(
  ctx: JobContext,
  view: JobView,
  outDir: string | undefined,
  progress?: Progress,
): Promise<ResultsResult> {
  const out = resolve(outDir ?? join('results', view.jobId))
  const keys = (await new Bucket(ctx.s3, ctx.bucket).list(view.paths.processResults)).filter((k) => !k.endsWith('/'))
  if (keys.length === 0) {
    throw new NcapError(
      `job ${view.jobId} has no results yet (nothing under s3://${ctx.bucket}/${view.paths.processResults}); its state: ${view.state}`,
      {
        code: 'NoResults',
        suggestions: [`ncap logs ${view.jobId} --follow`],
      },
    )
  }
  const files: ResultsResult['files'] = []
  for (const key of keys) {
    const relative = key.slice(view.paths.processResults.length)
    const file = join(out, ...relative.split('/'))
    if (!file.startsWith(out + sep)) throw new NcapError(`refusing to write ${key} outside ${out}`, {code: 'UnsafeKey'})
    const {bytes, skipped} = await downloadVerified(ctx.s3, ctx.bucket, key, file, {progress})
    files.push({key, file, bytes, skipped})
  }
  return {jobId: view.jobId, out, files}
}
