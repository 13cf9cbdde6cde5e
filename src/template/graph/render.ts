/** Mermaid and Graphviz DOT text for a ResourceGraph: deterministic, with ids and labels escaped. */
import type {ResourceGraph} from '../graph.js'

const FUNCTIONAL = '#000000'
const INFRASTRUCTURE = '#e75480'

/** AWS::S3::Bucket -> AWS::S3; Custom::Folders -> Custom. */
export function serviceOf(type: string): string {
  const parts = type.split('::')
  return parts.length >= 3 ? parts.slice(0, 2).join('::') : (parts[0] ?? type)
}

function byService(graph: ResourceGraph): [string, ResourceGraph['nodes']][] {
  const groups = new Map<string, ResourceGraph['nodes']>()
  for (const node of graph.nodes) {
    const service = serviceOf(node.type)
    groups.set(service, [...(groups.get(service) ?? []), node])
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Mermaid ids are bare words; logical ids usually are too, anything else gets a numbered id. */
function mermaidIds(graph: ResourceGraph): Map<string, string> {
  return new Map(graph.nodes.map((node, index) => [node.id, /^[A-Za-z0-9]+$/.test(node.id) ? `r_${node.id}` : `n${index}`]))
}

/** Text inside a quoted mermaid label: entity codes for what mermaid would read as syntax. */
export function mermaidText(text: string): string {
  return text.replace(/[#"<>&\n]/g, (c) => (c === '\n' ? '<br/>' : `#${c.charCodeAt(0)};`))
}

export function renderMermaid(graph: ResourceGraph): string {
  const ids = mermaidIds(graph)
  const lines = ['flowchart LR']
  byService(graph).forEach(([service, nodes], index) => {
    lines.push(`  subgraph s${index}["${mermaidText(service)}"]`)
    for (const node of nodes) lines.push(`    ${ids.get(node.id)}["${mermaidText(node.label)}<br/>${mermaidText(node.type)}"]`)
    lines.push('  end')
  })
  const styles: string[] = []
  graph.edges.forEach((edge, index) => {
    const dashed = edge.kind === 'dependsOn'
    lines.push(`  ${ids.get(edge.from)} ${dashed ? '-.->' : '-->'}|${edge.kind}| ${ids.get(edge.to)}`)
    styles.push(`  linkStyle ${index} stroke:${dashed ? INFRASTRUCTURE : FUNCTIONAL}`)
  })
  return `${[...lines, ...styles].join('\n')}\n`
}

/** A DOT double-quoted string. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`
}

export function renderDot(graph: ResourceGraph): string {
  const lines = [
    'digraph resources {',
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fillcolor="#f7f7f7", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=8];',
  ]
  byService(graph).forEach(([service, nodes], index) => {
    lines.push(`  subgraph cluster_${index} {`, `    label=${dotString(service)};`, '    style="rounded,dashed";')
    for (const node of nodes) lines.push(`    ${dotString(node.id)} [label=${dotString(`${node.label}\n${node.type}`)}];`)
    lines.push('  }')
  })
  for (const edge of graph.edges) {
    const style = edge.kind === 'dependsOn' ? `style=dashed, color="${INFRASTRUCTURE}"` : `color="${FUNCTIONAL}"`
    lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [${style}, label=${dotString(edge.kind)}];`)
  }
  lines.push('}')
  return `${lines.join('\n')}\n`
}
