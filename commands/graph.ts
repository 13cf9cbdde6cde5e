import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {writeFileAtomic} from '../src/store/atomic.js'
import {compileProject} from '../src/template/from-config.js'
import {renderGraph} from '../src/template/graph.js'
import {NcapCommand} from '../src/ui/ncap-command.js'

export default class Graph extends NcapCommand {
  static override summary = "Draw a pipeline's resources and their dependencies"
  static override description =
    `Compiles DIR's config in memory and draws its CloudFormation resources: solid edges are references (Ref, Fn::GetAtt, Fn::Sub), dashed edges are DependsOn. SVG is rendered in-process (Graphviz compiled to WebAssembly): no system binary needed.`
  static override examples = [
    '<%= config.bin %> graph --format mermaid',
    '<%= config.bin %> graph pipelines/dlc --format svg --output dlc.svg',
    '<%= config.bin %> graph --format dot | dot -Tpng > graph.png',
  ]
  static override args = {dir: Args.string({description: 'pipeline folder or config file', default: '.'})}
  static override flags = {
    format: Flags.string({description: 'output format', options: ['mermaid', 'dot', 'svg'], default: 'mermaid'}),
    output: Flags.string({char: 'o', description: 'write to this file instead of standard output'}),
  }

  async run() {
    const {args, flags} = await this.parse(Graph)
    const project = await compileProject(args.dir)
    const text = await renderGraph(project.compiled.main, flags.format as 'mermaid' | 'dot' | 'svg')
    if (flags.output) {
      await writeFileAtomic(flags.output, text)
      this.say(`wrote ${flags.output}`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
    }
    return {format: flags.format, output: flags.output, graph: flags.output ? undefined : text}
  }
}
