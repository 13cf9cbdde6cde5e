import * as Args from '@oclif/core/args'
import {resolveStateDir} from '../../../src/emulator/paths.js'
import {advanceClock, formatEvent, formatOffset} from '../../../src/emulator/services/ncap/cli.js'
import {NcapCommand, stateDirFlag} from '../../../src/ui/ncap-command.js'

export default class EmulatorClockAdvance extends NcapCommand {
  static override summary = "Move the running emulator's clock forward and show what fired."
  static override description =
    'Fires, in order, every timer that falls due on the way (schedules, timeouts, retention), waits for what they started to settle, and prints what the emulator recorded meanwhile. Durations: 90s, 25m, 1h30m, 2d, or a number of seconds. The clock never moves back.'
  static override examples = ['<%= config.bin %> <%= command.id %> 25m', '<%= config.bin %> <%= command.id %> 1h30m --json']
  static override args = {duration: Args.string({description: 'how far: 90s, 25m, 1h30m, 2d', required: true})}
  static override flags = {...stateDirFlag}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(EmulatorClockAdvance)
    const view = await advanceClock(resolveStateDir(flags['state-dir']), args.duration)
    this.say(
      `Clock advanced by ${formatOffset(view.advancedMs)} to ${view.now} (${formatOffset(view.offsetMs)} ahead of the host); ${view.timersFired} timer(s) fired.`,
    )
    for (const event of view.events) this.say(`  ${formatEvent(event)}`)
    return view
  }
}
