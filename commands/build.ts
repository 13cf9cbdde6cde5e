import * as Args from '@oclif/core/args'
import {formatDiagnostic} from '../src/config/index.js'
import {compileProject, resourceCount} from '../src/template/from-config.js'
import {writeCompiled} from '../src/template/index.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Build extends NcapCommand {
  static override summary = "Compile a pipeline's stack config into CloudFormation"
  static override description =
    `Reads DIR/stack_config_template.json and writes DIR/compiled_template.json (and, for pipelines past CloudFormation's quotas, nested templates under DIR/compiled_nested/). The output is deterministic: the same config gives byte-identical templates.`
  static override examples = [
    '<%= config.bin %> build',
    '<%= config.bin %> build pipelines/dlc',
    '<%= config.bin %> build pipelines/dlc --json',
  ]
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}

  async run() {
    const {args} = await this.parse(Build)
    const project = await compileProject(args.dir)
    for (const warning of project.warnings) process.stderr.write(`${formatDiagnostic(warning)}\n`)
    const files = await writeCompiled(project.configDir, project.compiled)
    const nested = Object.keys(project.compiled.nested).length
    const resources = resourceCount(project.compiled)
    this.say(`Built ${project.pipeline.name}: ${resources} resources${nested > 0 ? ` in ${nested + 1} templates` : ''}`)
    for (const file of files) this.say(`  wrote ${file}`)
    for (const note of project.compiled.notes) this.say(`  note: ${note}`)
    return {
      pipeline: project.pipeline.name,
      config: project.configPath,
      files,
      resources,
      nestedStacks: nested,
      notes: project.compiled.notes,
      warnings: project.warnings,
    }
  }
}
