/**
 * The analysis config a job names (`configname`), JSON or YAML: ncap reads only
 * NeuroCAAS's reserved keys, `__duration__` (minutes, the instance's timeout and
 * the cost projection) and `__dataset_size__` (GB, added to the root volume).
 */
import {parse as parseYaml} from 'yaml'

export const DEFAULT_DURATION_MINUTES = 60

export interface JobLimits {
  durationMinutes: number
  datasetSizeGb?: number
  notes: string[]
}

export type ConfigRead = {ok: true; limits: JobLimits} | {ok: false; reason: string}

function positive(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined
}

export function readJobLimits(key: string, text: string): ConfigRead {
  let value: unknown
  try {
    value = key.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    return {
      ok: false,
      reason: `the config ${key} is not valid ${key.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    }
  }
  const notes: string[] = []
  const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  let durationMinutes = DEFAULT_DURATION_MINUTES
  if ('__duration__' in fields) {
    const d = positive(fields.__duration__)
    if (d === undefined)
      return {
        ok: false,
        reason: `__duration__ in ${key} must be a positive number of minutes, found ${JSON.stringify(fields.__duration__)}`,
      }
    durationMinutes = d
  } else {
    notes.push(`${key} sets no __duration__: the job gets ${DEFAULT_DURATION_MINUTES} minutes per dataset`)
  }
  let datasetSizeGb: number | undefined
  if ('__dataset_size__' in fields) {
    datasetSizeGb = positive(fields.__dataset_size__)
    if (datasetSizeGb === undefined)
      return {
        ok: false,
        reason: `__dataset_size__ in ${key} must be a positive number of GB, found ${JSON.stringify(fields.__dataset_size__)}`,
      }
  }
  return {ok: true, limits: {durationMinutes, ...(datasetSizeGb === undefined ? {} : {datasetSizeGb}), notes}}
}
