import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {jobContext} from '../src/jobs/context.js'
import {followJob, formatLogLine} from '../src/jobs/follow.js'
import {findJob} from '../src/jobs/read.js'
import {parseSince} from '../src/jobs/since.js'
import {jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Logs extends NcapCommand {
  static override summary = "Print a job's log: the job manager, dataset statuses, the functions' logs"
  static override description =
    `The job manager's lines from the certificate, each dataset's status changes (with its command's output when it ends) and the CloudWatch logs of the submit and monitor functions that mention the job, interleaved by time. --follow keeps printing new lines as they come (each once) and ends when the job ends, exiting 0 if every dataset succeeded and 1 otherwise. --json prints one JSON object per line.`
  static override examples = [
    '<%= config.bin %> logs --follow',
    '<%= config.bin %> logs job__dlc_20261201-101500-ab12 --since 10m --filter ERROR',
    '<%= config.bin %> logs --follow --json',
  ]
  static override args = {job: Args.string({description: 'the job id (default: the latest job)'})}
  static override flags = {
    ...jobFlags,
    follow: Flags.boolean({char: 'f', description: 'keep printing until the job ends', default: false}),
    since: Flags.string({description: 'only lines newer than this (e.g. 10m, 2h, or an ISO time)'}),
    filter: Flags.string({description: 'only lines containing this text'}),
  }
  // Lines are printed as they come; --json is one object per line, not one document.
  static override enableJsonFlag = true

  async run() {
    const {args, flags} = await this.parse(Logs)
    const json = this.jsonEnabled()
    const ctx = await jobContext(flags)
    const job = await findJob(ctx, args.job, flags.group)
    const controller = new AbortController()
    process.once('SIGINT', () => controller.abort())
    const view = await followJob(ctx, job, {
      follow: flags.follow,
      since: flags.since ? parseSince(flags.since) : undefined,
      filter: flags.filter,
      signal: controller.signal,
      onLine: (line) =>
        process.stdout.write(json ? `${JSON.stringify({type: 'line', jobId: job.jobId, ...line})}\n` : `${formatLogLine(line)}\n`),
    })
    if (json) process.stdout.write(`${JSON.stringify({type: 'end', jobId: view.jobId, outcome: view.outcome, ended: view.ended})}\n`)
    else if (flags.follow) process.stderr.write(`job ${view.jobId}: ${view.outcome}\n`)
    if (flags.follow && view.outcome !== 'succeeded') this.exit(1)
    this.exit(0)
  }
}
