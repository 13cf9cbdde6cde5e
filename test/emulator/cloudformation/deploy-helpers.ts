/** Deploys ncap's compiled templates the way `ncap deploy` will: code zips and nested templates uploaded, then CreateStack. */
import {CreateBucketCommand, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'
import type {Pipeline} from '../../../src/config/model.js'
import {assetsBucketName, objectUrl, prepareAssets, withNestedUrls} from '../../../src/deploy/assets.js'
import {compilePipeline} from '../../../src/template/index.js'

export interface Deployable {
  templateBody: string
  parameters: {ParameterKey: string; ParameterValue: string}[]
  bucket: string
  nestedCount: number
}

/**
 * Compiles a pipeline, uploads its assets to the emulated S3 and returns what
 * CreateStack needs. Nested templates get AWS's virtual-hosted regional URL
 * (what a packaged template carries), which the emulator must resolve to its S3.
 */
export async function prepareDeploy(
  s3: S3Client,
  pipeline: Pipeline,
  urlStyle: 'aws' | 'endpoint' = 'aws',
  endpoint?: string,
): Promise<Deployable> {
  const compiled = compilePipeline(pipeline)
  const assets = await prepareAssets(pipeline, compiled)
  const bucket = assetsBucketName('000000000000', pipeline.region)
  await s3.send(new CreateBucketCommand({Bucket: bucket})).catch((error) => {
    if (error.name !== 'BucketAlreadyOwnedByYou') throw error
  })
  for (const code of assets.code) await s3.send(new PutObjectCommand({Bucket: bucket, Key: code.key, Body: code.zip}))
  const urls: Record<string, string> = {}
  for (const template of assets.templates) {
    await s3.send(new PutObjectCommand({Bucket: bucket, Key: template.key, Body: template.body}))
    urls[template.file] = objectUrl(bucket, template.key, pipeline.region, urlStyle === 'endpoint' ? endpoint : undefined)
  }
  const main = withNestedUrls(compiled.main, urls)
  return {
    templateBody: JSON.stringify(main),
    parameters: [
      {ParameterKey: 'AssetsBucket', ParameterValue: bucket},
      ...assets.code.map((code) => ({ParameterKey: code.parameter, ParameterValue: code.key})),
    ].filter((p) => main.Parameters?.[p.ParameterKey] !== undefined),
    bucket,
    nestedCount: assets.templates.length,
  }
}
