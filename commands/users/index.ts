import * as Args from '@oclif/core/args'
import {listUsers} from '../../src/deploy/users.js'
import {NcapCommand, pipelineTargetFlags} from '../../src/ui/ncap-command.js'
import {renderTable} from '../../src/ui/table.js'

export default class Users extends NcapCommand {
  static override summary = "List a pipeline's users, their groups and access keys"
  static override description =
    'Reads the users of the pipeline in DIR from its config and asks the target (as last deployed) whether each exists and what access keys it has. Secrets are never printed here: see `ncap users credentials`.'
  static override examples = ['<%= config.bin %> users', '<%= config.bin %> users pipelines/dlc --json']
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}
  static override flags = {...pipelineTargetFlags}

  async run() {
    const {args, flags} = await this.parse(Users)
    const result = await listUsers(args.dir, flags)
    this.say(`Users of ${result.pipeline} on ${result.target}:`)
    this.say(
      renderTable(
        ['user', 'groups', 'origin', 'deployed', 'access keys'],
        result.users.map((u) => [
          u.user,
          u.groups.join(', '),
          u.origin,
          u.exists ? 'yes' : 'no',
          u.keys.map((k) => `${k.accessKeyId} (${k.status})`).join(', ') || '-',
        ]),
      ),
    )
    return result
  }
}
