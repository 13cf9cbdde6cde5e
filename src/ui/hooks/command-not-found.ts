/**
 * oclif's command_not_found hook: `ncap buidl` says which command was probably
 * meant, on a terminal or not, and exits 2 (a usage error). oclif's not-found
 * plugin only suggests when it can prompt, so a script's log would say nothing useful.
 */
import type {Hook} from '@oclif/core/hooks'
import {closestCommand} from '../suggest-command.js'

const hook: Hook.CommandNotFound = async function (options) {
  const visible = options.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const separator = options.config.topicSeparator ?? ' '
  const typed = options.id.split(':').join(separator)
  const suggestion = closestCommand(options.id, ids)
  const lines = [`Error: "${typed}" is not an ncap command.`]
  if (suggestion) lines.push(`Did you mean: ncap ${suggestion.split(':').join(separator)}?`)
  lines.push('Run ncap --help for the list of commands.')
  process.stderr.write(`${lines.join('\n')}\n`)
  this.exit(2)
}

export default hook
