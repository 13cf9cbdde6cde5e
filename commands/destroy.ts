import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {destroyPipeline} from '../src/deploy/deploy.js'
import {eventLine} from '../src/deploy/render.js'
import {UsageError} from '../src/errors.js'
import {NcapCommand, pipelineTargetFlags} from '../src/ui/ncap-command.js'
import {outputMode} from '../src/ui/steps.js'

export default class Destroy extends NcapCommand {
  static override summary = "Delete a pipeline's stack and everything in it"
  static override description =
    `Deletes the stack that \`ncap deploy\` made for the pipeline in DIR: its folder resource empties the bucket first (every object, version and upload), then every resource is deleted in reverse dependency order. Follows the events to the end. A stack that does not exist is an error.

Without a terminal to confirm on, --yes is required.`
  static override examples = ['<%= config.bin %> destroy --yes', '<%= config.bin %> destroy pipelines/dlc --target aws --profile lab']
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}
  static override flags = {
    ...pipelineTargetFlags,
    'stack-name': Flags.string({description: 'the stack name (default: the saved one, else the PipelineName)'}),
    yes: Flags.boolean({char: 'y', description: 'delete without asking', default: false}),
  }

  async run() {
    const {args, flags} = await this.parse(Destroy)
    const json = this.jsonEnabled()
    if (!flags.yes) {
      const interactive = process.stdin.isTTY && process.stderr.isTTY && !process.env.CI && !json
      if (!interactive)
        throw new UsageError('destroy deletes the stack and its data: pass --yes to confirm without a terminal', {
          suggestions: ['ncap destroy --yes'],
        })
      const {confirm} = await import('@inquirer/prompts')
      if (!(await confirm({message: `Delete the pipeline's stack and every object in its bucket?`, default: false}))) {
        this.say('Nothing deleted.')
        return {deleted: false}
      }
    }
    const result = await destroyPipeline({dir: args.dir, flags, output: outputMode(json), onEvent: (line) => this.say(eventLine(line))})
    if (result.status !== 'DELETE_COMPLETE') {
      process.stderr.write(`\n${result.stackName}: ${result.status}\n`)
      for (const f of result.failures) process.stderr.write(`  ${f.logicalId} (${f.type}): ${f.reason}\n`)
      if (json) this.logJson({...result, deleted: false})
      this.exit(1)
    }
    this.say(`\n${result.stackName}: deleted`)
    return {...result, deleted: true}
  }
}
