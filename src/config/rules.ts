/**
 * Rules that relate fields to each other or to the disk, run on the raw value so that
 * they report alongside zod's field errors (all errors at once). Values ncap cannot
 * honour, decided key by key:
 *
 * | key                         | ncap                                                                          |
 * |-----------------------------|-------------------------------------------------------------------------------|
 * | PipelineVersion             | kept (Pipeline.version)                                                       |
 * | STAGE develop, webdev       | kept; ncap's stack creates the users and prefixes each IAM group with the     |
 * |                             | pipeline name, which is what those NeuroCAAS stages did                       |
 * | STAGE websubstack           | kept, warning: NeuroCAAS expected users made beforehand by its separate user  |
 * |                             | stack and put CORS on the bucket for its web portal; ncap does neither        |
 * | Lambda.Requirements         | kept, warning: pip requirements; ncap's handlers are Node                     |
 * | NeuroCAAS submit handlers   | ncap's handler (NEUROCAAS_SUBMIT_HANDLERS); a warning where the variant differed |
 * | PipelinePath, PipelineDir   | kept, silent: marked unused in the seed, unused by NeuroCAAS too            |
 * | MISSING_CONFIG_ERROR, CONFIG| honoured by the submit handler                                                |
 * | WORKING_DIRECTORY           | honoured (the SSM command's working folder)                                   |
 * | IAM_ROLE, SECURITY_GROUPS,  | honoured: referenced, never created                                           |
 * | KEY_NAME                    |                                                                               |
 * | LOGDIR, OUTDIR, INDIR       | honoured (NeuroCAAS silently replaced them with logs/results/inputs)         |
 * | LambdaConfig.REGION ≠ REGION| kept, warning: instances launch away from the stack                           |
 * | ContactEmail not an address | warning; left out of the Pipeline so nothing mails placeholder text          |
 * | numeric string ("300")      | read as the number, warning                                                   |
 * | Lambda.Launch vs LAUNCH     | false if either is false; warning when they disagree                          |
 * | unknown key near a known one| error with a did-you-mean; other unknown keys: warning, ignored               |
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {COMMAND_SLOT_VALUES, FIXED_GROUP_FOLDERS, NEUROCAAS_DEFAULTS} from './defaults.js'
import {type Findings, jsonPath, preview} from './errors.js'
import type {PostProcess, SubmitHandler} from './model.js'
import {EMAIL_ADDRESS, groupNameProblems} from './naming.js'
import {KEY_HOMES, KNOWN_KEYS, NUMERIC_FIELDS} from './schema.js'
import {didYouMean} from './suggest.js'

type Json = Record<string, unknown>
type At = (string | number)[]

export const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined
export const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/** Misspelt keys are errors with a did-you-mean; keys far from any known one are warnings. */
export function checkUnknownKeys(raw: unknown, findings: Findings): void {
  const root = asObject(raw)
  if (!root) return
  const lambda = asObject(root.Lambda)
  const visit = (object: Json | undefined, kind: keyof typeof KNOWN_KEYS, at: At) => {
    if (!object) return
    const known: readonly string[] = KNOWN_KEYS[kind]
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue
      const suggestion = didYouMean(key, known)
      if (suggestion) {
        findings.error([...at, key], 'unknown-key', `unknown key; did you mean ${suggestion}?`, {suggestion, found: key})
        continue
      }
      const home = (Object.keys(KNOWN_KEYS) as (keyof typeof KNOWN_KEYS)[]).find((k) => k !== kind && KNOWN_KEYS[k].includes(key as never))
      const hint = home ? `; ${key} belongs in ${KEY_HOMES[home]}` : ''
      findings.warn([...at, key], 'unknown-key', `unknown key, ignored${hint}`, {found: key})
    }
  }
  visit(root, 'root', [])
  visit(lambda, 'Lambda', ['Lambda'])
  visit(asObject(lambda?.LambdaConfig), 'LambdaConfig', ['Lambda', 'LambdaConfig'])
  visit(asObject(root.UXData), 'UXData', ['UXData'])
  asArray(asObject(root.UXData)?.Affiliates).forEach((a, i) => {
    visit(asObject(a), 'Affiliate', ['UXData', 'Affiliates', i])
  })
  visit(asObject(root.Ncap), 'Ncap', ['Ncap'])
}

/** Real blueprints write `"MAXCOST": "300"`: read such strings as numbers (mutates `raw`), with a warning. */
export function coerceNumericStrings(raw: unknown, findings: Findings): void {
  const config = asObject(asObject(asObject(raw)?.Lambda)?.LambdaConfig)
  if (!config) return
  for (const field of NUMERIC_FIELDS) {
    const value = config[field]
    if (typeof value !== 'string' || !/^\s*\d+(\.\d+)?\s*$/.test(value)) continue
    config[field] = Number(value)
    findings.warn(
      ['Lambda', 'LambdaConfig', field],
      'numeric-string',
      `${field} is the string ${preview(value)}: read as the number ${Number(value)}`,
      {
        expected: 'a number',
        found: preview(value),
      },
    )
  }
}

/** How many `{}` slots a COMMAND has; ncap fills bucket, data key, result path, config key in order. */
export function countCommandSlots(command: string): number {
  return command.split('{}').length - 1
}

export function checkCommand(command: unknown, findings: Findings): void {
  if (typeof command !== 'string') return
  const at = ['Lambda', 'LambdaConfig', 'COMMAND']
  const slots = countCommandSlots(command)
  if (slots > COMMAND_SLOT_VALUES.length) {
    findings.error(
      at,
      'command-slots',
      `expected at most four {} slots (${COMMAND_SLOT_VALUES.join(', ')}), found ${slots} (${preview(command)})`,
      {
        expected: 'at most four {} slots',
        found: String(slots),
      },
    )
  } else if (slots < COMMAND_SLOT_VALUES.length) {
    const missing = COMMAND_SLOT_VALUES.slice(slots).map((v) => `the ${v}`)
    const list = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`
    findings.warn(at, 'command-slots', `COMMAND has ${slots} {} slots: it will not receive ${list}`, {found: String(slots)})
  }
}

export interface DeclaredUser {
  name: string
  groups: string[]
  /** Where the user is first declared. */
  at: At
}

/**
 * Groups unique and users merged, case-insensitively as IAM compares them; a user listed
 * twice in one group is an error. Returns the users in first-declaration order.
 */
export function collectUsers(raw: unknown, logDir: string, findings: Findings): DeclaredUser[] {
  const affiliates = asArray(asObject(asObject(raw)?.UXData)?.Affiliates)
  const groupsSeen = new Map<string, At>()
  const users = new Map<string, DeclaredUser>()
  affiliates.forEach((affiliate, i) => {
    const group = asString(asObject(affiliate)?.AffiliateName)
    const groupAt: At = ['UXData', 'Affiliates', i, 'AffiliateName']
    // A name that breaks the group rules is already an error; do not also call placeholders duplicates.
    if (group !== undefined && groupNameProblems(group).length === 0) {
      const earlier = groupsSeen.get(group.toLowerCase())
      if (earlier)
        findings.error(
          groupAt,
          'duplicate-group',
          `group ${preview(group)} is declared twice (also at ${jsonPath(earlier)}; names ignore case)`,
        )
      else groupsSeen.set(group.toLowerCase(), groupAt)
      if (group === logDir)
        findings.error(
          groupAt,
          'group-name',
          `group ${preview(group)} would share the bucket's log folder ${logDir}/ (LOGDIR): rename the group`,
        )
    }
    const inGroup = new Map<string, At>()
    asArray(asObject(affiliate)?.UserNames).forEach((name, j) => {
      if (typeof name !== 'string') return
      const at: At = ['UXData', 'Affiliates', i, 'UserNames', j]
      const key = name.toLowerCase()
      const twice = inGroup.get(key)
      if (twice) {
        findings.error(
          at,
          'duplicate-user',
          `user ${preview(name)} is listed twice in this group (also at ${jsonPath(twice)}; IAM user names ignore case)`,
        )
        return
      }
      inGroup.set(key, at)
      const user = users.get(key)
      if (!user) {
        users.set(key, {name, groups: group === undefined ? [] : [group], at})
        return
      }
      if (group !== undefined) user.groups.push(group)
      if (user.name !== name)
        findings.warn(
          at,
          'user-spelling',
          `${preview(name)} is the IAM user ${preview(user.name)} (declared at ${jsonPath(user.at)}; names ignore case): using ${user.name}`,
        )
    })
  })
  return [...users.values()]
}

/** LOGDIR/OUTDIR/INDIR: distinct, and the per-group ones clear of the fixed folders. */
export function checkFolders(folders: {LOGDIR: unknown; OUTDIR: unknown; INDIR: unknown}, findings: Findings): void {
  const seen = new Map<string, string>()
  for (const key of ['LOGDIR', 'OUTDIR', 'INDIR'] as const) {
    const name = asString(folders[key]) ?? (folders[key] === undefined ? NEUROCAAS_DEFAULTS[key] : undefined)
    if (name === undefined) continue
    const at = ['Lambda', 'LambdaConfig', key]
    const other = seen.get(name)
    if (other) findings.error(at, 'folder-name', `expected a folder name distinct from ${other}, found ${preview(name)} (also ${other})`)
    seen.set(name, key)
    if (key !== 'LOGDIR' && (FIXED_GROUP_FOLDERS as readonly string[]).includes(name))
      findings.error(
        at,
        'folder-name',
        `expected a folder name other than ${FIXED_GROUP_FOLDERS.join(' and ')} (each group's fixed folders), found ${preview(name)}`,
      )
  }
}

/** Launch is off if either flag is false; a disagreement is worth a warning. */
export function resolveLaunch(lambdaLaunch: unknown, configLaunch: unknown, findings: Findings): boolean {
  const a = typeof lambdaLaunch === 'boolean' ? lambdaLaunch : undefined
  const b = typeof configLaunch === 'boolean' ? configLaunch : undefined
  if (a !== undefined && b !== undefined && a !== b)
    findings.warn(
      ['Lambda', 'Launch'],
      'launch',
      `Lambda.Launch is ${a} but Lambda.LambdaConfig.LAUNCH is ${b}: the submit handler will not launch instances (dry run)`,
    )
  if (a === false || b === false) return false
  return NEUROCAAS_DEFAULTS.LAUNCH
}

/**
 * Every submit handler NeuroCAAS shipped in `ncap_iac/protocols/submit_start*.py`
 * (cunningham-lab/neurocaas, read across its whole history: 2019 to 2023), each
 * deployed as ncap's submit handler. Where a variant behaved differently, the
 * value says what ncap does instead (a warning); undefined: nothing to say.
 */
export const NEUROCAAS_SUBMIT_HANDLERS: ReadonlyMap<string, string | undefined> = new Map([
  // The 2019 handler (the seed's): with LAUNCH false it started an existing instance named by submit.json's instance_id.
  ['submit_start.handler', undefined],
  ['submit_start.handler_full', undefined],
  ['submit_start.handler_log', undefined],
  ['submit_start.handler_log_dev', undefined],
  ['submit_start.handler_log_test', undefined],
  [
    'submit_start.handler_log_demo',
    "NeuroCAAS's demo handler gave every job the fixed name job<name>epi_demo and reset its results folder on each submit; ncap gives each job its own id and overwrites nothing",
  ],
  ['submit_start.handler_deploy', undefined],
  ['submit_start.handler_develop', undefined],
  [
    'submit_start.handler_ensemble',
    "NeuroCAAS's ensemble handler trained several models per job; ncap's submit handler runs one instance per dataset",
  ],
  [
    'submit_start.handler_multisession',
    'NeuroCAAS\'s multisession handler ran all datasets of a job on one instance when the config said "multisession": "True"; ncap\'s submit handler runs one instance per dataset',
  ],
  [
    'submit_start_legacy_wfield_preprocess.handler',
    "NeuroCAAS's legacy widefield-preprocessing handler required instance_type in submit.json and, with LAUNCH false, started an existing instance; ncap's submit handler takes instance_type as optional and makes LAUNCH false a dry run",
  ],
])
/** The seed's `lambda_repo` and `lambda_code`, and NeuroCAAS's `protocols` folder, at any relative depth (../../protocols). */
const NEUROCAAS_CODE_FOLDERS = new Set(['lambda_repo', 'lambda_code', 'protocols'])
const HANDLER_NAME = /^[\w./-]+\.[A-Za-z_$][\w$]*$/

/** Which submit handler the stack deploys; undefined after an error. */
export function resolveSubmitHandler(
  lambda: {CodeUri?: unknown; Handler?: unknown},
  dir: string,
  dirExists: (p: string) => boolean,
  findings: Findings,
): SubmitHandler | undefined {
  const codeUri = asString(lambda.CodeUri)
  const handler = asString(lambda.Handler)
  if (!codeUri || !handler) return undefined
  const folder = path.basename(codeUri.replace(/[\\/]+$/, ''))
  if (NEUROCAAS_SUBMIT_HANDLERS.has(handler) && NEUROCAAS_CODE_FOLDERS.has(folder)) {
    const differs = NEUROCAAS_SUBMIT_HANDLERS.get(handler)
    if (differs) findings.warn(['Lambda', 'Handler'], 'handler', differs)
    return {kind: 'ncap', declaredCodeUri: codeUri, declaredHandler: handler}
  }
  const codeDir = path.resolve(dir, codeUri)
  if (!dirExists(codeDir)) {
    findings.mismatch(
      ['Lambda', 'CodeUri'],
      'code-uri',
      "ncap's submit handler (CodeUri lambda_repo, lambda_code or NeuroCAAS's protocols folder, with a NeuroCAAS submit_start handler) or a folder of your own handler code beside the config",
      codeUri,
      `no such folder ${codeDir} (Handler ${preview(handler)})`,
    )
    return undefined
  }
  if (!HANDLER_NAME.test(handler)) {
    findings.mismatch(['Lambda', 'Handler'], 'handler', 'a handler as module.function (e.g. index.handler)', handler)
    return undefined
  }
  return {kind: 'custom', codeDir, handler}
}

/** PostCodeUri + PostHandler (+ PostTrigger); a code folder that is not beside the config is left out. */
export function resolvePostProcess(
  lambda: {PostCodeUri?: unknown; PostHandler?: unknown; PostTrigger?: unknown},
  dir: string,
  dirExists: (p: string) => boolean,
  findings: Findings,
): PostProcess | undefined {
  const codeUri = asString(lambda.PostCodeUri)
  const handler = asString(lambda.PostHandler)
  const trigger = asString(lambda.PostTrigger)
  if (codeUri === undefined && handler === undefined) {
    if (trigger !== undefined)
      findings.error(
        ['Lambda', 'PostTrigger'],
        'post-process',
        'PostTrigger without PostCodeUri and PostHandler: expected all three or none',
      )
    return undefined
  }
  if (codeUri === undefined || handler === undefined) {
    const [given, absent] = codeUri === undefined ? ['PostHandler', 'PostCodeUri'] : ['PostCodeUri', 'PostHandler']
    findings.error(['Lambda', given], 'post-process', `${given} without ${absent}: expected both (or neither)`, {
      expected: absent,
      found: 'nothing',
    })
    return undefined
  }
  if (!HANDLER_NAME.test(handler)) {
    findings.mismatch(['Lambda', 'PostHandler'], 'post-process', 'a handler as module.function', handler)
    return undefined
  }
  const absolute = path.resolve(dir, codeUri)
  const codeDir = dirExists(absolute) ? absolute : undefined
  if (!codeDir)
    findings.warn(
      ['Lambda', 'PostCodeUri'],
      'post-process',
      `post-processing code ${codeUri} not found beside the config: build leaves the post-processing function out`,
    )
  const language = codeDir ? handlerLanguage(codeDir, handler) : 'python'
  return {handler, language, declaredCodeUri: codeUri, ...(trigger === undefined ? {} : {trigger}), ...(codeDir ? {codeDir} : {})}
}

/**
 * The language of a handler's module (`postprocess.epipostprocess` → postprocess.py
 * or postprocess.js/.mjs/.cjs/.ts): real NeuroCAAS PostHandlers are Python, so a
 * module found in neither form counts as Python.
 */
export function handlerLanguage(codeDir: string, handler: string): 'python' | 'node' {
  const module = handler.slice(0, handler.lastIndexOf('.'))
  const base = path.join(codeDir, module)
  if (existsSync(`${base}.py`)) return 'python'
  return ['.js', '.mjs', '.cjs', '.ts'].some((ext) => existsSync(base + ext)) ? 'node' : 'python'
}

/** A ContactEmail is for notifications; placeholder text is a warning, not a refusal. */
export function checkContactEmail(value: unknown, at: At, findings: Findings): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  if (EMAIL_ADDRESS.test(value)) return value
  findings.warn(at, 'contact-email', `ContactEmail is not an e-mail address (${preview(value)}): no notifications for this group`, {
    expected: 'an e-mail address',
    found: preview(value),
  })
  return undefined
}

/** STAGE: what each NeuroCAAS stage built, and where ncap differs. */
export function checkStage(stage: unknown, findings: Findings): void {
  if (stage === 'websubstack')
    findings.warn(
      ['STAGE'],
      'stage',
      'STAGE websubstack: NeuroCAAS added users made beforehand by its separate user stack and put CORS on the bucket for its web portal; ncap creates the users itself (list pre-existing ones in Ncap.ExistingUsers) and adds no CORS',
    )
}
