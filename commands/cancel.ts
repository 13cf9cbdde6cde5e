import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {requestCancel} from '../src/jobs/cancel.js'
import {jobContext} from '../src/jobs/context.js'
import {followJob} from '../src/jobs/follow.js'
import {findJob} from '../src/jobs/read.js'
import {asUserFlag, jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Cancel extends NcapCommand {
  static override summary = 'Cancel a job'
  static override description =
    'Uploads a cancel request ({"cancel": "<job id>"}) into the group\'s submissions/, as a user of the group (users have no EC2 rights); the submit handler terminates the job\'s instances and the certificate says who cancelled it and when. Waits until the job has ended unless --no-wait.'
  static override examples = ['<%= config.bin %> cancel job__dlc_20261201-101500-ab12', '<%= config.bin %> cancel --no-wait --json']
  static override args = {job: Args.string({description: 'the job id (default: the latest job)'})}
  static override flags = {
    ...jobFlags,
    ...asUserFlag,
    wait: Flags.boolean({description: 'wait until the job has ended', default: true, allowNo: true}),
  }

  async run() {
    const {args, flags} = await this.parse(Cancel)
    const ctx = await jobContext(flags)
    const job = await findJob(ctx, args.job, flags.group)
    if (job.ended) {
      this.say(`${job.jobId} has already ended (${job.outcome}): nothing to cancel.`)
      return {jobId: job.jobId, cancelled: false, outcome: job.outcome}
    }
    const request = await requestCancel(ctx, job, flags)
    this.say(`cancel requested for ${job.jobId} as ${request.as} (${request.key})`)
    if (!flags.wait) return {jobId: job.jobId, cancelled: true, request: request.key}
    const view = await followJob(ctx, job, {follow: true, onLine: () => {}})
    this.say(`${job.jobId}: ${view.outcome}`)
    return {jobId: job.jobId, cancelled: true, request: request.key, outcome: view.outcome, state: view.state}
  }
}
