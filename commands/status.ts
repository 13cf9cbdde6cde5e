import * as Args from '@oclif/core/args'
import {jobContext} from '../src/jobs/context.js'
import {findJob} from '../src/jobs/read.js'
import {jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'
import {renderTable} from '../src/ui/table.js'

export default class Status extends NcapCommand {
  static override summary = "Show one job's state, datasets, instances and cost"
  static override description =
    'One job (default: the latest) in detail: its state and outcome, each dataset with its status, instance and last reason, the start, duration and cost. Exit 1 when the job does not exist.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status job__dlc_20261201-101500-ab12 --json']
  static override args = {job: Args.string({description: 'the job id (default: the latest job)'})}
  static override flags = {...jobFlags}

  async run() {
    const {args, flags} = await this.parse(Status)
    const ctx = await jobContext(flags)
    const {paths, ...job} = await findJob(ctx, args.job, flags.group)
    this.say(`${job.jobId} (group ${job.group}): ${job.outcome}, state ${job.state}`)
    this.say(
      `started ${job.created ?? '-'}${job.endedAt ? `, ended ${job.endedAt}` : ''}${job.durationSeconds !== undefined ? ` (${job.durationSeconds.toFixed(1)} s)` : ''}, cost $${job.costUsd.toFixed(4)}`,
    )
    if (job.datasets.length > 0)
      this.say(
        renderTable(
          ['dataset', 'status', 'instance', 'reason'],
          job.datasets.map((d) => [d.dataKey, d.status, d.instance ?? '-', d.reason ?? '']),
        ),
      )
    this.say(`results: s3://${ctx.bucket}/${paths.processResults}`)
    return {...job, prefix: paths.prefix, certificate: paths.certificate, results: paths.processResults}
  }
}
