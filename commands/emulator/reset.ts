import {confirm} from '@inquirer/prompts'
import * as Flags from '@oclif/core/flags'
import {type ResetResult, resetEmulator} from '../../src/emulator/lifecycle.js'
import {resolveStateDir} from '../../src/emulator/paths.js'
import {UsageError} from '../../src/errors.js'
import {NcapCommand, stateDirFlag} from '../../src/ui/ncap-command.js'

export default class EmulatorReset extends NcapCommand {
  static override summary = "Delete all of the emulator's state."
  static override description =
    'Stops the emulator if it runs, then deletes everything in its state folder: buckets, objects, IAM users and keys. Asks first on a terminal; elsewhere --yes is required.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --yes --state-dir ./.ncap/emulator',
  ]
  static override flags = {
    ...stateDirFlag,
    yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation', default: false}),
  }

  async run(): Promise<ResetResult | undefined> {
    const {flags} = await this.parse(EmulatorReset)
    const stateDir = resolveStateDir(flags['state-dir'])
    if (!flags.yes) {
      if (!process.stdin.isTTY || this.jsonEnabled()) {
        throw new UsageError(`Refusing to delete the emulator state in ${stateDir} without confirmation: use --yes.`, {
          suggestions: [`ncap emulator reset --yes --state-dir ${stateDir}`],
        })
      }
      if (!(await confirm({message: `Delete all emulator state in ${stateDir}?`, default: false}))) {
        this.say('Nothing deleted.')
        return undefined
      }
    }
    const result = await resetEmulator(stateDir)
    if (result.stoppedPid !== undefined) this.say(`Stopped the emulator (pid ${result.stoppedPid}).`)
    this.say(result.removed.length > 0 ? `Removed from ${stateDir}: ${result.removed.join(', ')}` : `${stateDir} was already empty.`)
    return result
  }
}
