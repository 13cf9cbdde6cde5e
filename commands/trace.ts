import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {formatTrace, traceJob} from '../src/jobs/trace.js'
import {NcapCommand, pipelineTargetFlags} from '../src/ui/ncap-command.js'

export default class Trace extends NcapCommand {
  static override summary = "One timeline of a job's chain, with every link that never happened"
  static override description =
    `Shows, in order, with times and the time since the submit file's upload: the submit.json upload, the S3 notification (delivered or not, and why), the submit function's runs and their outcome, each instance's state changes (pending, running, shutting-down, terminated, stopped), each SSM command and its transitions, the job rule's matches and the monitor's runs, and the end.txt upload. Links that never happened are listed as missing, with the reason when it is known (no notification rule matched, a permission missing, an invoke refused, the job still running).

On target local the links come from the emulator's event record; elsewhere from the job's own records (job.json, status files, cost records), the submit and monitor functions' CloudWatch Logs filtered by the job id, and EC2's description of the job's instances.

--key traces an upload that may have made no job (for instance a submit.json under a prefix no notification watches): what happened to it and what is missing.

With --json, one JSON object a line: {"type":"link",…} per link, {"type":"missing",…} per missing link, then {"type":"summary",…}. A job that does not exist exits 1.`
  static override examples = [
    '<%= config.bin %> trace',
    '<%= config.bin %> trace job__mypipe_20240101-120000-abcd',
    '<%= config.bin %> trace --key lab/inputs/x_submit.json',
    '<%= config.bin %> trace --json | jq -c \'select(.type == "missing")\'',
    '<%= config.bin %> trace job__mypipe_20240101-120000-abcd --target aws --profile lab',
  ]
  static override args = {
    job: Args.string({description: 'job id (default: the latest job)'}),
  }
  static override flags = {
    dir: Flags.string({description: 'pipeline folder or config file', default: '.'}),
    group: Flags.string({description: 'the group whose job it is (default: any group)'}),
    key: Flags.string({description: 'trace the upload of this submit file (a key in the bucket) instead of a job'}),
    ...pipelineTargetFlags,
  }

  async run() {
    const {args, flags} = await this.parse(Trace)
    const trace = await traceJob({...flags, ...(args.job ? {job: args.job} : {})})
    if (this.jsonEnabled()) {
      const lines = [...trace.links, ...trace.missing, trace.summary].map((o) => JSON.stringify(o))
      process.stdout.write(`${lines.join('\n')}\n`)
      return
    }
    for (const line of formatTrace(trace)) this.log(line)
  }
}
