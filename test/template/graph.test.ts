import test from 'ava'
import {dotString, mermaidText} from '../../src/template/graph/render.js'
import {buildGraph, renderGraph} from '../../src/template/graph.js'
import {cleanTemplate, nestedPair} from './lint-fixtures.js'

test('buildGraph has every resource and every resource-to-resource reference, by kind', (t) => {
  const graph = buildGraph(cleanTemplate())
  t.deepEqual(
    graph.nodes.map((n) => n.id),
    ['Bucket', 'Folders', 'Function', 'Key', 'KeySecret', 'ProdTopic', 'Role', 'User'],
  )
  t.deepEqual(
    graph.nodes.find((n) => n.id === 'Key'),
    {id: 'Key', type: 'AWS::IAM::AccessKey', label: 'Key'},
  )
  t.deepEqual(
    graph.edges.map((e) => `${e.from}-${e.kind}->${e.to}`),
    [
      'Folders-dependsOn->Bucket',
      'Folders-getatt->Function',
      'Function-ref->Bucket',
      'Function-getatt->Role',
      'Key-ref->User',
      'KeySecret-getatt->Function',
      'KeySecret-sub->Key',
      'Role-getatt->Bucket',
      'Role-sub->Bucket',
    ],
  )
})

test('references to parameters and pseudo parameters, and from outputs, are not edges', (t) => {
  const graph = buildGraph(cleanTemplate())
  t.false(graph.edges.some((e) => e.to === 'AssetsBucket' || e.to.startsWith('AWS::')))
  t.false(graph.edges.some((e) => e.to === 'ProdTopic'))
})

test('mermaid has every node in a subgraph per service, solid and dashed edges', async (t) => {
  const text = await renderGraph(cleanTemplate(), 'mermaid')
  t.true(text.startsWith('flowchart LR\n'))
  for (const id of buildGraph(cleanTemplate()).nodes.map((n) => n.id)) t.regex(text, new RegExp(`r_${id}\\["${id}<br/>`))
  t.regex(text, /subgraph s\d+\["AWS::IAM"\]/)
  t.regex(text, /subgraph s\d+\["Custom"\]/)
  t.true(text.includes('r_Folders -.->|dependsOn| r_Bucket'))
  t.true(text.includes('r_Function -->|getatt| r_Role'))
  t.true(text.includes('linkStyle 0 stroke:#e75480'))
  t.true(text.includes('linkStyle 1 stroke:#000000'))
  t.is(text.match(/ --?\.?->\|/g)?.length, 9)
})

test('dot has every node in a cluster per service and every edge, DependsOn dashed', async (t) => {
  const text = await renderGraph(cleanTemplate(), 'dot')
  t.true(text.startsWith('digraph resources {'))
  t.is(text.match(/subgraph cluster_\d+ \{/g)?.length, 6) // IAM, Lambda, S3, SNS, SecretsManager, Custom
  t.true(text.includes('"KeySecret" [label="KeySecret\\nAWS::SecretsManager::Secret"];'))
  t.true(text.includes('"Folders" -> "Bucket" [style=dashed, color="#e75480", label="dependsOn"];'))
  t.true(text.includes('"KeySecret" -> "Key" [color="#000000", label="sub"];'))
  t.is(text.match(/ -> /g)?.length, 9)
})

test('dot renders to SVG in-process', async (t) => {
  const started = Date.now()
  const svg = await renderGraph(cleanTemplate(), 'svg')
  t.log(`svg rendered in ${Date.now() - started} ms`)
  t.true(svg.includes('<svg'))
  t.true(svg.includes('AWS::SecretsManager::Secret'))
  t.true(svg.includes('stroke-dasharray')) // the DependsOn edge
})

test('output is deterministic, whatever the order of the template keys', async (t) => {
  const template = cleanTemplate()
  const reversed = {...template, Resources: Object.fromEntries(Object.entries(template.Resources).reverse())}
  for (const format of ['mermaid', 'dot', 'svg'] as const) {
    t.is(await renderGraph(template, format), await renderGraph(reversed, format), format)
  }
})

test('ids and labels are escaped in both languages', async (t) => {
  const template = {Resources: {'we"ird\\id#1': {Type: 'Custom::Thing<x>'}, Plain: {Type: 'AWS::SNS::Topic', DependsOn: 'we"ird\\id#1'}}}
  t.is(dotString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"')
  t.is(mermaidText('a"b#<c>'), 'a#34;b#35;#60;c#62;')
  const mermaid = await renderGraph(template, 'mermaid')
  t.false(mermaid.includes('we"ird'))
  t.true(mermaid.includes('n1["we#34;ird\\id#35;1<br/>Custom::Thing#60;x#62;"]'))
  t.true(mermaid.includes('r_Plain -.->|dependsOn| n1'))
  const svg = await renderGraph(template, 'svg')
  t.true(svg.includes('<svg'))
  t.true(svg.includes('we&quot;ird\\id#1'))
})

test('a nested stack is one node labelled with its template', (t) => {
  const graph = buildGraph(nestedPair().main)
  t.deepEqual(graph.nodes, [
    {id: 'Bucket', type: 'AWS::S3::Bucket', label: 'Bucket'},
    {id: 'Identity1', type: 'AWS::CloudFormation::Stack', label: 'Identity1 (compiled_nested/Identity1.json)'},
  ])
  t.deepEqual(graph.edges, [{from: 'Identity1', to: 'Bucket', kind: 'ref'}])
})

test('a template without Resources cannot be drawn', (t) => {
  t.throws(() => buildGraph({Outputs: {}}), {message: /no Resources/})
})
