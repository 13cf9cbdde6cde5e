import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {userCredentials} from '../../src/deploy/users.js'
import {UsageError} from '../../src/errors.js'
import {NcapCommand, pipelineTargetFlags} from '../../src/ui/ncap-command.js'

export default class UsersCredentials extends NcapCommand {
  static override summary = "Write a pipeline user's access key as an AWS profile or a file"
  static override description =
    `Reads USER's access key and console password, which the stack generated and keeps in Secrets Manager, and writes them as a profile in the shared AWS credentials file (--profile NAME; other profiles are kept; mode 0600; region and endpoint go to the config file) or as a KEY=value file (--out FILE, mode 0600). Secrets are printed only with --show.`
  static override examples = [
    '<%= config.bin %> users credentials alice --profile alice',
    '<%= config.bin %> users credentials alice pipelines/dlc --out alice.env',
    '<%= config.bin %> users credentials alice --show',
  ]
  static override args = {
    user: Args.string({description: 'the IAM user', required: true}),
    dir: Args.string({description: 'pipeline folder or config file', default: '.'}),
  }
  static override flags = {
    ...pipelineTargetFlags,
    profile: Flags.string({description: 'write the credentials under this profile in the shared credentials file'}),
    'aws-profile': Flags.string({description: 'the AWS profile to read the secrets with (target aws)', helpGroup: 'TARGET'}),
    out: Flags.string({description: 'write KEY=value lines to this file (mode 0600)'}),
    show: Flags.boolean({description: 'print the secret access key and password', default: false}),
  }

  async run() {
    const {args, flags} = await this.parse(UsersCredentials)
    if (!flags.profile && !flags.out && !flags.show) {
      throw new UsageError('say where the credentials go: --profile NAME, --out FILE, or --show to print them', {
        suggestions: [`ncap users credentials ${args.user} --profile ${args.user}`],
      })
    }
    const result = await userCredentials({
      dir: args.dir,
      user: args.user,
      flags: {...flags, profile: flags['aws-profile']},
      profileName: flags.profile,
      out: flags.out,
    })
    if (result.profile) this.say(`Wrote profile ${result.profile} for ${result.user} (${result.accessKeyId}) to ${result.file}`)
    else if (result.file) this.say(`Wrote the credentials of ${result.user} (${result.accessKeyId}) to ${result.file}`)
    const {credentials, ...shown} = result
    if (flags.show) {
      this.say(`aws_access_key_id = ${credentials.accessKeyId}`)
      this.say(`aws_secret_access_key = ${credentials.secretAccessKey}`)
      if (credentials.password) this.say(`console password = ${credentials.password}`)
      return {...shown, secretAccessKey: credentials.secretAccessKey, password: credentials.password}
    }
    return shown
  }
}
