import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {formatDiagnostic} from '../src/config/index.js'
import {validateProject} from '../src/template/validate-project.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Validate extends NcapCommand {
  static override summary = "Check a pipeline's config and its compiled templates"
  static override description =
    `Validates DIR/stack_config_template.json (every error names the file, the JSON path, what was expected and what was found), compiles it in memory, and lints the templates: logical ids, references, attributes, cycles, resource types and properties against the CloudFormation resource specification, and CloudFormation's quotas. When AWS's cfn-lint is installed it runs too. Warnings are listed apart from errors.

Exit codes: 0 no errors (warnings allowed), 1 template errors, 2 config errors.`
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate pipelines/dlc --json',
    '<%= config.bin %> validate --no-cfn-lint',
    '<%= config.bin %> validate --target local',
  ]
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}
  static override flags = {
    'cfn-lint': Flags.boolean({description: "also run AWS's cfn-lint when installed", default: true, allowNo: true}),
    target: Flags.string({
      description:
        "where the stack will be deployed: with 'local', every resource type the embedded emulator does not provision is an error",
      options: ['aws', 'local'],
      default: 'aws',
    }),
  }

  async run() {
    const {args, flags} = await this.parse(Validate)
    const report = await validateProject(args.dir, {cfnLint: flags['cfn-lint'], target: flags.target as 'aws' | 'local'})
    if (!this.jsonEnabled()) {
      if (report.errors.length > 0) {
        this.log(`${report.errors.length} error(s):`)
        for (const d of report.errors) this.log(`  ${formatDiagnostic(d)}`)
      }
      if (report.warnings.length > 0) {
        this.log(`${report.warnings.length} warning(s):`)
        for (const d of report.warnings) this.log(`  ${formatDiagnostic(d)}`)
      }
      if (report.cfnLint === 'not installed') this.log("cfn-lint is not installed; AWS's linter was skipped (pip install cfn-lint)")
      if (report.errors.length === 0) this.log(`${report.config}: valid${report.cfnLint === 'ran' ? ' (cfn-lint clean)' : ''}`)
    }
    if (report.exitCode !== 0) {
      if (this.jsonEnabled()) this.logJson(report)
      this.exit(report.exitCode)
    }
    return report
  }
}
