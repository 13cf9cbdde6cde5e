import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {deployPipeline, deploySucceeded} from '../src/deploy/deploy.js'
import {changeTable, eventLine} from '../src/deploy/render.js'
import {NcapCommand, pipelineTargetFlags} from '../src/ui/ncap-command.js'
import {outputMode} from '../src/ui/steps.js'

export default class Deploy extends NcapCommand {
  static override summary = 'Deploy a pipeline: build, upload, show the change set, confirm, execute'
  static override description =
    `Builds and validates the pipeline in DIR, bundles its handlers, uploads what changed to the account's assets bucket, creates a CloudFormation change set and shows it as a table (added / modified / replaced / removed, with the property that forces a replacement), asks before executing (on a terminal; elsewhere pass --yes), then follows the stack's events live, nested stacks included, and prints the outputs.

On the local emulator it first registers the pipeline's machine images (Ncap.LocalImages, and image/ for the placeholder AMI) and refuses, by name, any resource type the emulator cannot create. The target, profile, region and stack name are saved beside the config (ncap-deploy.json), so the next deploy needs no flags.

Exit codes: 0 deployed (or nothing to change), 1 the deploy failed (the failing resource and its reason are printed, and the rollback), 2 usage or config errors (nothing is touched).`
  static override examples = [
    '<%= config.bin %> deploy --yes',
    '<%= config.bin %> deploy pipelines/dlc --no-execute',
    '<%= config.bin %> deploy --target aws --profile lab --region us-east-2',
    '<%= config.bin %> deploy --endpoint-url http://127.0.0.1:5000 --yes --json',
  ]
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}
  static override flags = {
    ...pipelineTargetFlags,
    'stack-name': Flags.string({description: 'the stack name (default: the PipelineName)'}),
    yes: Flags.boolean({char: 'y', description: 'execute the change set without asking', default: false}),
    execute: Flags.boolean({description: 'execute the change set (--no-execute: create and show it only)', default: true, allowNo: true}),
  }

  async run() {
    const {args, flags} = await this.parse(Deploy)
    const json = this.jsonEnabled()
    const interactive = process.stdin.isTTY && process.stderr.isTTY && !process.env.CI
    const result = await deployPipeline({
      dir: args.dir,
      flags,
      yes: flags.yes,
      execute: flags.execute,
      output: outputMode(json),
      confirm:
        interactive && !json
          ? async (question) => (await import('@inquirer/prompts')).confirm({message: question, default: false})
          : undefined,
      showChanges: (rows, stack) => this.say(`\nChange set for ${stack}:\n${changeTable(rows)}\n`),
      onEvent: (line) => this.say(eventLine(line)),
      note: (text) => this.say(text),
    })
    if (result.noChanges) this.say(`No changes: ${result.stackName} already matches the config.`)
    else if (result.executed) {
      if (deploySucceeded(result)) this.say(`\n${result.stackName}: ${result.status}`)
      else {
        process.stderr.write(`\n${result.stackName} failed: ${result.status}\n`)
        for (const f of result.failures) process.stderr.write(`  ${f.logicalId} (${f.type}): ${f.reason}\n`)
        if (/ROLLBACK_COMPLETE$/.test(result.status ?? '')) process.stderr.write('  the changes were rolled back\n')
      }
    }
    if (Object.keys(result.outputs).length > 0 && !json) {
      this.say('\nOutputs:')
      for (const [key, value] of Object.entries(result.outputs)) this.say(`  ${key} = ${value}`)
    }
    if (!deploySucceeded(result)) {
      if (json) this.logJson(result)
      this.exit(1)
    }
    return result
  }
}
