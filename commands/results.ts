import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {jobContext} from '../src/jobs/context.js'
import {findJob} from '../src/jobs/read.js'
import {downloadResults} from '../src/jobs/results.js'
import {progressLine} from '../src/jobs/transfer.js'
import {jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Results extends NcapCommand {
  static override summary = "Download a job's results"
  static override description =
    "Downloads the job's process_results/ into --out (default results/<job>), with progress; each file is checked against its size and ETag, and files already downloaded whole are skipped, so an interrupted download resumes. Exit 1 when the job does not exist or has no results yet."
  static override examples = ['<%= config.bin %> results job__dlc_20261201-101500-ab12', '<%= config.bin %> results --out ./out --json']
  static override args = {job: Args.string({description: 'the job id (default: the latest job)'})}
  static override flags = {...jobFlags, out: Flags.string({description: 'the folder to download into (default: results/<job>)'})}

  async run() {
    const {args, flags} = await this.parse(Results)
    const json = this.jsonEnabled()
    const ctx = await jobContext(flags)
    const job = await findJob(ctx, args.job, flags.group)
    const started = new Map<string, number>()
    const tty = process.stderr.isTTY && !json
    const result = await downloadResults(ctx, job, flags.out, (file, loaded, total) => {
      if (!started.has(file)) started.set(file, Date.now())
      if (tty) process.stderr.write(`\r${progressLine(file.split('/').pop()!, loaded, total, started.get(file)!)}\x1b[K`)
    })
    if (tty) process.stderr.write('\r\x1b[K')
    for (const f of result.files) this.say(`${f.skipped ? 'already there' : 'downloaded'}  ${f.file}  (${f.bytes} bytes, verified)`)
    this.say(`${result.files.length} file(s) in ${result.out}`)
    return result
  }
}
