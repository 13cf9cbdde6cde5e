import {jobContext} from '../src/jobs/context.js'
import {listJobs} from '../src/jobs/read.js'
import {jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'
import {renderTable} from '../src/ui/table.js'

export default class Jobs extends NcapCommand {
  static override summary = "List a pipeline's jobs"
  static override description =
    "Each job of the pipeline (or of --group) with its state, datasets, instances, start, duration and cost, read from the job's records in the bucket (job.json, the status files, the cost records and end.txt)."
  static override examples = ['<%= config.bin %> jobs', '<%= config.bin %> jobs --group lab --json']
  static override flags = {...jobFlags}

  async run() {
    const {flags} = await this.parse(Jobs)
    const ctx = await jobContext(flags)
    const jobs = await listJobs(ctx, flags.group)
    if (jobs.length === 0) this.say(`No jobs in ${ctx.pipeline.name} yet.`)
    else
      this.say(
        renderTable(
          ['job', 'group', 'outcome', 'datasets', 'instances', 'started', 'duration', 'cost'],
          jobs.map((j) => [
            j.jobId,
            j.group,
            j.outcome,
            `${j.datasets.filter((d) => d.status === 'SUCCESS').length}/${j.datasets.length} ok`,
            String(j.instances.length),
            j.created?.slice(0, 19).replace('T', ' ') ?? '-',
            j.durationSeconds !== undefined ? `${j.durationSeconds.toFixed(1)} s` : '-',
            `$${j.costUsd.toFixed(4)}`,
          ]),
        ),
      )
    return {pipeline: ctx.pipeline.name, jobs: jobs.map(({paths, ...j}) => ({...j, prefix: paths.prefix}))}
  }
}
