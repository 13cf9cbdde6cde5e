/** The S3 notification records the submit handler receives (event version 2.x). */
import {decodeEventKey} from './layout.js'

export interface S3EventRecord {
  eventName?: string
  eventTime?: string
  awsRegion?: string
  userIdentity?: {principalId?: string}
  s3?: {bucket?: {name?: string}; object?: {key?: string; sequencer?: string; eTag?: string}}
}

export interface S3Upload {
  bucket: string
  key: string
  eventName: string
  eventTime: string
  principal: string
  sequencer: string
}

export function uploadsOf(event: unknown): S3Upload[] {
  const records = (event as {Records?: S3EventRecord[]})?.Records
  if (!Array.isArray(records)) return []
  const out: S3Upload[] = []
  for (const r of records) {
    const bucket = r.s3?.bucket?.name
    const key = r.s3?.object?.key
    if (!bucket || key === undefined) continue
    out.push({
      bucket,
      key: decodeEventKey(key),
      eventName: r.eventName ?? '',
      eventTime: r.eventTime ?? new Date().toISOString(),
      principal: r.userIdentity?.principalId ?? 'unknown',
      sequencer: r.s3?.object?.sequencer ?? '',
    })
  }
  return out
}
