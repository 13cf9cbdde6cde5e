/**
 * What deploying to the embedded emulator needs beyond the API: the pipeline's
 * machine images registered as local folders (Ncap.LocalImages, and the
 * scaffold's image/ for the placeholder AMI that `ncap init` writes), and a
 * refusal, by name and before anything changes, of any resource type the
 * emulator's CloudFormation engine cannot create.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {Pipeline} from '../config/model.js'
import {PLACEHOLDER_AMI} from '../config/scaffold.js'
import {resolveStateDir} from '../emulator/paths.js'
import {isSupportedResourceType, unsupportedTypeMessage} from '../emulator/services/cloudformation/supported.js'
import {listImages, registerImage, removeImage} from '../emulator/services/ec2/images.js'
import {NcapError} from '../errors.js'
import type {CompiledStack} from '../template/index.js'

export function unsupportedResources(compiled: CompiledStack): {template: string; logicalId: string; type: string}[] {
  const out: {template: string; logicalId: string; type: string}[] = []
  const templates = {'compiled_template.json': compiled.main, ...compiled.nested}
  for (const [file, template] of Object.entries(templates)) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (!isSupportedResourceType(resource.Type)) out.push({template: file, logicalId, type: resource.Type})
    }
  }
  return out
}

/** The AMI → folder pairs the pipeline runs on the emulator. */
export function pipelineImages(pipeline: Pipeline): Record<string, string> {
  const images: Record<string, string> = {...pipeline.local.images}
  const scaffold = join(pipeline.dir, 'image')
  if (pipeline.instance.ami === PLACEHOLDER_AMI && images[PLACEHOLDER_AMI] === undefined && existsSync(scaffold)) {
    images[PLACEHOLDER_AMI] = scaffold
  }
  return images
}

/** Refuses unsupported types, then registers the images; returns the AMI ids registered. */
export async function localPreparation(
  pipeline: Pipeline,
  compiled: CompiledStack,
  stateDirFlag: string | undefined,
  report: (text: string) => void,
): Promise<string[]> {
  const unsupported = unsupportedResources(compiled)
  if (unsupported.length > 0) {
    throw new NcapError(
      `${unsupported.map((u) => `${u.logicalId} in ${u.template}: ${unsupportedTypeMessage(u.type)}`).join('; ')}. Nothing was deployed.`,
      {code: 'UnsupportedResourceType', exitCode: 2},
    )
  }
  const stateDir = resolveStateDir(stateDirFlag)
  const registered: string[] = []
  const known = await listImages(stateDir)
  for (const [imageId, dir] of Object.entries(pipelineImages(pipeline))) {
    const existing = known.find((image) => image.ImageId === imageId)
    // The placeholder AMI is every scaffold's: the pipeline being deployed takes it over.
    if (existing && imageId === PLACEHOLDER_AMI) await removeImage(stateDir, imageId)
    const record = await registerImage(stateDir, {dir, imageId, name: `${pipeline.name}-${imageId}`})
    report(`${imageId} = ${record.Dir}`)
    registered.push(imageId)
  }
  if (!pipelineImages(pipeline)[pipeline.instance.ami] && !known.some((image) => image.ImageId === pipeline.instance.ami)) {
    report(
      `note: ${pipeline.instance.ami} is not registered: jobs will be refused until \`ncap emulator images add DIR --image-id ${pipeline.instance.ami}\``,
    )
  }
  return registered
}
