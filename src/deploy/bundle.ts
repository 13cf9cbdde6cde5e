/**
 * A handler folder -> the zip Lambda runs: esbuild bundles `<folder>/index.ts`
 * (or .js) and everything it imports into one CommonJS `index.js` (the handler is
 * `index.handler`), leaving `@aws-sdk/*` out as AWS's Node.js runtimes carry SDK v3.
 * The zip is deterministic: fixed entry time and mode, so the same source gives
 * the same bytes and an unchanged function is not uploaded again.
 */
import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {NcapError} from '../errors.js'

/** The Node.js version of the runtime the compiler names (nodejs22.x) and of the emulator's workers (Node 20 here). */
export const BUNDLE_TARGET = 'node20'
/** DOS time's earliest date: zip tools show it as "no time". */
const ZIP_TIME = new Date(1980, 0, 1, 0, 0, 0)

export interface Bundle {
  /** The zip's bytes. */
  zip: Buffer
  /** Hex sha256 of the zip (an S3 key or a change check). */
  sha256: string
  /** Base64 sha256, as Lambda reports CodeSha256. */
  codeSha256: string
  /** The bundled JavaScript, for running it without unzipping. */
  code: string
  /** Source files esbuild read, relative to the folder's parent project. */
  inputs: string[]
}

export interface BundleOptions {
  /** Minify (default true: smaller uploads; names are kept so stack traces stay readable). */
  minify?: boolean
}

function entryOf(dir: string): string {
  for (const name of ['index.ts', 'index.mts', 'index.js', 'index.mjs']) {
    const file = join(dir, name)
    if (existsSync(file)) return file
  }
  throw new NcapError(`${dir} has no index.ts or index.js exporting handler`, {code: 'NoHandlerEntry', exitCode: 2})
}

export async function bundleHandler(dir: string, options: BundleOptions = {}): Promise<Bundle> {
  const folder = resolve(dir)
  const entry = entryOf(folder)
  const {build} = await import('esbuild')
  let result: Awaited<ReturnType<typeof build>>
  try {
    result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: BUNDLE_TARGET,
      format: 'cjs',
      outfile: 'index.js',
      write: false,
      external: ['@aws-sdk/*'],
      // import() of the SDK becomes require(): CommonJS resolution finds the runtime's SDK (NODE_PATH), ESM's would not.
      supported: {'dynamic-import': false},
      minify: options.minify ?? true,
      keepNames: true,
      legalComments: 'none',
      charset: 'utf8',
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: folder,
      // The bundle does not depend on the tsconfig.json around the folder.
      tsconfigRaw: '{}',
    })
  } catch (error) {
    const errors = (error as {errors?: {text: string; location?: {file: string; line: number}}[]}).errors ?? []
    const first = errors[0]
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : ''
    throw new NcapError(`could not bundle ${dir}: ${first?.text ?? (error as Error).message}${where}`, {code: 'BundleFailed'})
  }
  const output = (result.outputFiles ?? []).find((f) => f.path.endsWith('index.js'))
  if (!output) throw new NcapError(`esbuild wrote no index.js for ${dir}`, {code: 'BundleFailed'})
  const code = output.text
  const zip = await zipFiles([{name: 'index.js', data: Buffer.from(output.contents)}])
  const digest = createHash('sha256').update(zip)
  return {
    zip,
    sha256: createHash('sha256').update(zip).digest('hex'),
    codeSha256: digest.digest('base64'),
    code,
    inputs: Object.keys(result.metafile?.inputs ?? {}).sort(),
  }
}

/** A zip of these files, in name order, with fixed times and modes. */
export async function zipFiles(files: {name: string; data: Buffer}[]): Promise<Buffer> {
  const {ZipFile} = (await import('yazl')).default
  const zip = new ZipFile()
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    zip.addBuffer(f.data, f.name, {mtime: ZIP_TIME, mode: 0o100644, compress: true})
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}
