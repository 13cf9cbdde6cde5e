/**
 * What a compiled stack needs uploaded before CloudFormation can read it: each
 * Lambda's code (ncap's own handlers bundled by esbuild, a lab's own folder
 * zipped as it is) and the nested templates. Everything goes to one private
 * assets bucket per account and region, under content-hash keys, so an unchanged
 * function or template is never uploaded twice and never changes the stack.
 */
import {createHash} from 'node:crypto'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join, relative, resolve, sep} from 'node:path'
import type {Pipeline} from '../config/model.js'
import {packageRoot} from '../config/scaffold.js'
import {NcapError} from '../errors.js'
import type {CompiledStack, Template} from '../template/index.js'
import {bundleHandler, zipFiles} from './bundle.js'

/** CloudFormation takes a TemplateBody up to this size; larger ones must come from S3. */
export const TEMPLATE_BODY_LIMIT = 51_200

/** ncap's own handlers, by the template parameter that carries their code's key. */
const NCAP_HANDLER_PARAMETERS: Record<string, string> = {
  SubmitCodeKey: 'submit_start',
  MonitorCodeKey: 'monitor',
  FoldersCodeKey: 'folders',
}

export interface CodeAsset {
  /** The template parameter that takes the S3 key (SubmitCodeKey, …). */
  parameter: string
  /** As the template's metadata names it (lambda_repo/submit_start, post/). */
  declared: string
  /** The folder on disk. */
  source: string
  kind: 'ncap-handler' | 'folder'
  zip: Buffer
  sha256: string
  key: string
}

export interface TemplateAsset {
  /** The nested template's file name as the main template references it (compiled_nested/Identity1.json). */
  file: string
  body: string
  sha256: string
  key: string
}

export interface StackAssets {
  code: CodeAsset[]
  templates: TemplateAsset[]
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

/** A folder's files (sorted, hidden ones and __pycache__ left out) as one deterministic zip. */
export async function zipFolder(dir: string): Promise<Buffer> {
  const files: {name: string; data: Buffer}[] = []
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, {withFileTypes: true})) {
      if (entry.name.startsWith('.') || entry.name === '__pycache__' || entry.name === 'node_modules') continue
      const path = join(folder, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile()) files.push({name: relative(dir, path).split(sep).join('/'), data: await readFile(path)})
    }
  }
  await walk(dir)
  if (files.length === 0) throw new NcapError(`${dir} is empty: there is no code to deploy`, {code: 'EmptyCodeFolder', exitCode: 2})
  return zipFiles(files)
}

function assetMap(template: Template): Record<string, string> {
  const meta = (template.Metadata as {ncap?: {assets?: Record<string, string>}} | undefined)?.ncap
  return meta?.assets ?? {}
}

/** Bundles or zips every function's code and serializes every nested template, with their keys. */
export async function prepareAssets(pipeline: Pipeline, compiled: CompiledStack): Promise<StackAssets> {
  const code: CodeAsset[] = []
  const root = packageRoot()
  for (const [parameter, declared] of Object.entries(assetMap(compiled.main))) {
    const own = NCAP_HANDLER_PARAMETERS[parameter]
    const ncapHandler = own !== undefined && (parameter !== 'SubmitCodeKey' || pipeline.submitHandler.kind === 'ncap')
    const source = ncapHandler ? join(root, 'lambda_repo', own!) : resolve(pipeline.dir, declared)
    const isDir = await stat(source).then(
      (s) => s.isDirectory(),
      () => false,
    )
    if (!isDir) {
      throw new NcapError(`the code folder ${source} (${declared}, for ${parameter}) does not exist`, {
        code: 'MissingCodeFolder',
        exitCode: 2,
      })
    }
    const zip = ncapHandler ? (await bundleHandler(source)).zip : await zipFolder(source)
    const digest = sha256(zip)
    code.push({
      parameter,
      declared,
      source,
      kind: ncapHandler ? 'ncap-handler' : 'folder',
      zip,
      sha256: digest,
      key: `ncap/code/${digest}.zip`,
    })
  }
  const templates: TemplateAsset[] = Object.entries(compiled.nested).map(([file, template]) => {
    const body = `${JSON.stringify(template, null, 1)}\n`
    const digest = sha256(body)
    return {file, body, sha256: digest, key: `ncap/templates/${digest}.json`}
  })
  return {code, templates}
}

/** The assets bucket of an account and region: one, private, created on first deploy. */
export function assetsBucketName(accountId: string, region: string): string {
  return `ncap-assets-${accountId}-${region}`
}

/** How CloudFormation is told where a template in the assets bucket is: S3's URL on AWS, the endpoint's own elsewhere. */
export function objectUrl(bucket: string, key: string, region: string, endpoint?: string): string {
  if (endpoint) return `${endpoint.replace(/\/+$/, '')}/${bucket}/${key}`
  return `https://${bucket}.s3.${region}.amazonaws.com/${key}`
}

/** The main template with each nested stack's TemplateURL pointing at its uploaded copy. */
export function withNestedUrls(main: Template, urls: Record<string, string>): Template {
  const copy = JSON.parse(JSON.stringify(main)) as Template
  for (const resource of Object.values(copy.Resources)) {
    if (resource.Type !== 'AWS::CloudFormation::Stack') continue
    const properties = resource.Properties as {TemplateURL?: unknown}
    if (typeof properties.TemplateURL === 'string' && urls[properties.TemplateURL]) properties.TemplateURL = urls[properties.TemplateURL]
  }
  return copy
}
