import {readFile} from 'node:fs/promises'
import * as Flags from '@oclif/core/flags'
import {runDemo} from '../src/demo/demo.js'
import {NcapCommand} from '../src/ui/ncap-command.js'
import {outputMode} from '../src/ui/steps.js'

export default class Demo extends NcapCommand {
  static override summary = 'Run a real analysis end to end on a private emulator'
  static override description =
    `In a fresh temporary workspace, on a private embedded emulator: ncap init a pipeline whose image computes the per-frame motion energy of a video (as Facemap does), ncap deploy it, make a short video with the ffmpeg shipped in the npm package @ffmpeg-installer/ffmpeg, ncap submit it as the group's user, follow its log, download and verify the results (a CSV and an SVG plot), print where they are, and destroy the stack. Needs only Node and what npm ci installed: no Docker, no AWS account, no AWS CLI, no Python.

--keep leaves the stack, the emulator and the workspace for you to explore.`
  static override examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --keep', '<%= config.bin %> demo --json']
  static override flags = {keep: Flags.boolean({description: 'keep the workspace, the emulator and the stack', default: false})}

  async run() {
    const {flags} = await this.parse(Demo)
    const json = this.jsonEnabled()
    const result = await runDemo({
      keep: flags.keep,
      output: outputMode(json),
      onLine: (line) => (json ? undefined : process.stderr.write(`  ${line}\n`)),
    })
    const csv = (await readFile(result.csv, 'utf8')).trim().split('\n')
    this.say(`\nThe job ${result.jobId} ${result.outcome}. Its results, verified against their ETags:`)
    for (const f of result.results.files) this.say(`  ${f.file}  (${f.bytes} bytes)`)
    this.say(`\nMotion energy, ${result.frames} frame pairs (first lines of ${result.csv}):`)
    for (const line of csv.slice(0, 6)) this.say(`  ${line}`)
    this.say(`Plot: ${result.plot}`)
    if (result.kept) {
      this.say(`\nKept: workspace ${result.workspace}, emulator ${result.endpoint}`)
      this.say(`  cd ${result.pipelineDir} && ncap jobs --state-dir ${result.workspace}/emulator`)
      this.say(`  ncap emulator stop --state-dir ${result.workspace}/emulator   # when done`)
    }
    return result
  }
}
