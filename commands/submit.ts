import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {followJob, formatLogLine} from '../src/jobs/follow.js'
import {findJob} from '../src/jobs/read.js'
import {submitJob} from '../src/jobs/submit.js'
import {progressLine} from '../src/jobs/transfer.js'
import {asUserFlag, jobFlags} from '../src/ui/job-flags.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Submit extends NcapCommand {
  static override summary = 'Submit a job: upload the data and the config, then submit.json'
  static override description =
    `Uploads each FILE (or folder) into the group's inputs/ (in parallel parts, with progress; a file already there with the same content is not sent again; an interrupted upload is aborted, never left half), the config (default: the pipeline's configs/${'<CONFIG>'} that ncap init wrote) into configs/, then submit.json into submissions/, which starts the job. A KEY already in the bucket (group/inputs/x.mp4) is used as it is. Prints the job id.

It acts as a user of the group, so it obeys that user's IAM policy: --as-user USER (its key from Secrets Manager), --profile NAME (written by ncap users credentials), or on the local emulator the group's first user. --wait follows the job to its end and exits 0 only when every dataset succeeded.`
  static override examples = [
    '<%= config.bin %> submit video.mp4',
    '<%= config.bin %> submit a.mp4 b.mp4 --group lab --config params.yaml --wait',
    '<%= config.bin %> submit lab/inputs/video.mp4 --as-user alice --json',
  ]
  static override strict = false
  static override args = {items: Args.string({description: 'files, folders or bucket keys to analyze (one dataset each)', required: true})}
  static override flags = {
    ...jobFlags,
    ...asUserFlag,
    config: Flags.string({description: 'the analysis config: a local file or a key in the group’s configs/'}),
    'instance-type': Flags.string({description: "the instance type for this job (default: the pipeline's INSTANCE_TYPE)"}),
    wait: Flags.boolean({description: 'follow the job to its end; exit 1 unless every dataset succeeded', default: false}),
  }

  async run() {
    const {argv, flags} = await this.parse(Submit)
    const json = this.jsonEnabled()
    const tty = process.stderr.isTTY && !json
    const started = new Map<string, number>()
    const controller = new AbortController()
    const onSignal = () => controller.abort()
    process.once('SIGINT', onSignal)
    let result: Awaited<ReturnType<typeof submitJob>>
    try {
      result = await submitJob({
        ...flags,
        items: argv as string[],
        signal: controller.signal,
        progress: json
          ? undefined
          : (file, loaded, total) => {
              if (!started.has(file)) started.set(file, Date.now())
              if (tty) process.stderr.write(`\r${progressLine(file.split('/').pop()!, loaded, total, started.get(file)!)}\x1b[K`)
            },
        onFile: (line) => {
          if (tty) process.stderr.write('\r\x1b[K')
          if (!json) process.stderr.write(`${line}\n`)
        },
      })
    } finally {
      process.off('SIGINT', onSignal)
    }
    this.say(result.jobId)
    const out = {
      jobId: result.jobId,
      group: result.group,
      as: result.as,
      submitKey: result.submitKey,
      datasets: result.datasets,
      config: result.config,
      files: result.files,
    }
    if (!flags.wait) return out
    const view = await followJob(result.ctx, await waitForJob(result.ctx, result.jobId, result.group), {
      follow: true,
      onLine: (line) => (json ? undefined : process.stderr.write(`${formatLogLine(line)}\n`)),
    })
    const final = {...out, outcome: view.outcome, datasetsStatus: view.datasets}
    if (view.outcome !== 'succeeded') {
      if (json) this.logJson(final)
      else process.stderr.write(`job ${result.jobId}: ${view.outcome}\n`)
      this.exit(1)
    }
    this.say(`job ${result.jobId}: succeeded`)
    return final
  }
}

/** The submit handler writes the job record shortly after submit.json lands. */
async function waitForJob(ctx: Parameters<typeof findJob>[0], id: string, group: string) {
  const deadline = Date.now() + 5 * 60_000
  for (;;) {
    try {
      return await findJob(ctx, id, group)
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((done) => setTimeout(done, ctx.pollMs))
    }
  }
}
