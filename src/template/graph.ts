/**
 * `ncap graph`: a template's resources and their dependencies, the view the seed got from the
 * CloudFormation Designer. Solid black edges are functional links (Ref, Fn::GetAtt, Fn::Sub),
 * dashed pink edges are DependsOn. Nodes are grouped by AWS service; nested stacks are one node.
 */
import {renderDot, renderMermaid} from './graph/render.js'
import {collectReferences} from './lint/intrinsics.js'
import {isRecord} from './lint/json-path.js'
import {NESTED_STACK_TYPE, resourceEdges, resourceTypes} from './lint/references.js'

export type GraphFormat = 'mermaid' | 'dot' | 'svg'

export interface ResourceGraph {
  nodes: {id: string; type: string; label: string}[]
  edges: {from: string; to: string; kind: 'ref' | 'getatt' | 'sub' | 'dependsOn'}[]
}

const EDGE_ORDER = ['dependsOn', 'getatt', 'ref', 'sub'] as const

export function buildGraph(template: unknown): ResourceGraph {
  if (!isRecord(template) || !isRecord(template.Resources)) {
    throw new Error('Cannot draw this template: it has no Resources object')
  }
  const types = resourceTypes(template)
  const nodes = [...types.keys()]
    .sort()
    .map((id) => ({id, type: types.get(id) || 'unknown', label: labelOf(id, template.Resources as Record<string, unknown>)}))
  const edges = new Map<string, ResourceGraph['edges'][number]>()
  for (const reference of resourceEdges(collectReferences(template), types)) {
    const kind = reference.kind
    if (kind === 'condition' || kind === 'mapping') continue
    const edge = {from: reference.owner, to: reference.target, kind}
    edges.set(`${edge.from}\u0000${edge.to}\u0000${edge.kind}`, edge)
  }
  const sorted = [...edges.values()].sort(
    (a, b) => compare(a.from, b.from) || compare(a.to, b.to) || EDGE_ORDER.indexOf(a.kind) - EDGE_ORDER.indexOf(b.kind),
  )
  return {nodes, edges: sorted}
}

/** A nested stack's label names its template too. */
function labelOf(id: string, resources: Record<string, unknown>): string {
  const resource = resources[id]
  if (!isRecord(resource) || resource.Type !== NESTED_STACK_TYPE || !isRecord(resource.Properties)) return id
  const url = resource.Properties.TemplateURL
  return typeof url === 'string' ? `${id} (${url})` : id
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export async function renderGraph(template: unknown, format: GraphFormat): Promise<string> {
  const graph = buildGraph(template)
  if (format === 'mermaid') return renderMermaid(graph)
  if (format === 'dot') return renderDot(graph)
  if (format === 'svg') {
    const {instance} = await import('@viz-js/viz')
    const viz = await instance()
    return viz.renderString(renderDot(graph), {format: 'svg', engine: 'dot'})
  }
  throw new Error(`Unknown graph format ${JSON.stringify(format)}: expected mermaid, dot or svg`)
}
