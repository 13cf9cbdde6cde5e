/** Reading and rewriting a job's shared files: the record, the status files and the certificate. */
import {renderCertificate} from './certificate.js'
import type {DatasetStatus, JobRecord, JobStep} from './records.js'
import type {Bucket} from './store.js'

export async function readStatuses(bucket: Bucket, job: JobRecord): Promise<(DatasetStatus | undefined)[]> {
  return Promise.all(job.datasets.map((d) => bucket.getJson<DatasetStatus>(d.statusKey)))
}

/** Rewrites the certificate from the record and the status files as they are now; returns its ETag. */
export async function writeCertificate(bucket: Bucket, certificateKey: string, job: JobRecord): Promise<string | undefined> {
  return bucket.putText(certificateKey, renderCertificate(job, await readStatuses(bucket, job)))
}

/** The job manager's log: each step with the time since the job's first step (since now for a new job). */
export class Steps {
  private readonly started: number
  constructor(
    private readonly into: JobStep[],
    private readonly now: () => Date = () => new Date(),
  ) {
    const first = into.length > 0 ? Date.parse(into[0]!.at) : Number.NaN
    this.started = Number.isFinite(first) ? first : now().getTime()
  }

  add(message: string): void {
    const at = this.now()
    this.into.push({at: at.toISOString(), elapsedMs: at.getTime() - this.started, message})
  }
}
