/**
 * Writing the compiled templates beside the config: each file atomically (temp,
 * fsync, rename), then stale nested templates from an earlier, larger build removed.
 */
import {readdir, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'
import {writeFileAtomic} from '../store/atomic.js'
import {serializeTemplate} from './serialize.js'
import {COMPILED_TEMPLATE, type CompiledStack, NESTED_DIR} from './types.js'

/** Writes compiled_template.json and compiled_nested/*.json; returns the paths written. */
export async function writeCompiled(configDir: string, compiled: CompiledStack): Promise<string[]> {
  const written: string[] = []
  for (const [file, template] of Object.entries(compiled.nested)) {
    const path = join(configDir, file)
    await writeFileAtomic(path, serializeTemplate(template))
    written.push(path)
  }
  // The main template last: it is what refers to the nested ones.
  const mainPath = join(configDir, COMPILED_TEMPLATE)
  await writeFileAtomic(mainPath, serializeTemplate(compiled.main))
  written.push(mainPath)

  const nestedDir = join(configDir, NESTED_DIR)
  const keep = new Set(Object.keys(compiled.nested).map((file) => join(configDir, file)))
  let entries: string[]
  try {
    entries = await readdir(nestedDir)
  } catch {
    return written
  }
  for (const entry of entries) {
    const path = join(nestedDir, entry)
    if (entry.endsWith('.json') && !keep.has(path)) await rm(path, {force: true})
  }
  if ((await readdir(nestedDir)).length === 0) await rmdir(nestedDir)
  return written
}
