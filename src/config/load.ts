import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {ConfigError} from './errors.js'
import type {Diagnostic} from './model.js'

export const CONFIG_FILE_NAME = 'stack_config_template.json'

/** A file path, or a folder holding stack_config_template.json; absolute. Throws ConfigError naming the path. */
export function resolveConfigPath(fileOrDir: string): string {
  const absolute = path.resolve(fileOrDir)
  const stats = statSync(absolute, {throwIfNoEntry: false})
  if (stats === undefined) throw missing(absolute, `no such file or folder: ${absolute}`)
  if (!stats.isDirectory()) return absolute
  const file = path.join(absolute, CONFIG_FILE_NAME)
  if (!statSync(file, {throwIfNoEntry: false})?.isFile()) throw missing(file, `no ${CONFIG_FILE_NAME} in ${absolute}`)
  return file
}

function missing(file: string, message: string): ConfigError {
  return new ConfigError([{severity: 'error', file, path: '$', message, rule: 'file'}])
}

export type ParsedJson = {ok: true; value: unknown} | {ok: false; diagnostic: Diagnostic}

/** Reads and parses a config file; a syntax error becomes a diagnostic with line and column. */
export function readJsonFile(file: string): ParsedJson {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    return {ok: false, diagnostic: {severity: 'error', file, path: '$', message: `cannot read ${file}: ${reason}`, rule: 'file'}}
  }
  return parseJsonText(text, file)
}

export function parseJsonText(text: string, file: string): ParsedJson {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  try {
    return {ok: true, value: JSON.parse(body)}
  } catch (error) {
    const raw = (error as Error).message
    const {line, column} = locate(body, raw)
    const reason = raw
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ in JSON at position \d+/, '')
      .replace(/^JSON\.parse: /, '')
    const message = `invalid JSON at line ${line}, column ${column}: ${reason}`
    return {ok: false, diagnostic: {severity: 'error', file, path: '$', message, rule: 'json-syntax', found: reason}}
  }
}

/** V8 names a character offset ("at position 16") or, at the end of input, nothing. */
function locate(text: string, message: string): {line: number; column: number} {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message)
  if (lineColumn) return {line: Number(lineColumn[1]), column: Number(lineColumn[2])}
  const position = /at position (\d+)/.exec(message)
  const offset = position ? Number(position[1]) : text.length
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return {line, column}
}
