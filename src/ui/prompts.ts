/**
 * How `ncap init` gathers its answers: flags, defaults, and (on a terminal)
 * the inquirer wizard, which asks only what no flag gave. Every answer is
 * checked by the config's own rules as it is typed (checkAnswers).
 */
import {basename, resolve} from 'node:path'
import {input} from '@inquirer/prompts'
import {checkAnswers, formatGroup, type GroupAnswer, INIT_DEFAULTS, type InitAnswers, type InitFlag} from '../config/scaffold.js'
import {UsageError} from '../errors.js'

/** Parses one `--group NAME:USER1,USER2` value. */
export function parseGroupFlag(value: string): GroupAnswer {
  const colon = value.indexOf(':')
  const name = colon < 0 ? '' : value.slice(0, colon).trim()
  const users =
    colon < 0
      ? []
      : value
          .slice(colon + 1)
          .split(',')
          .map((u) => u.trim())
  if (colon < 0 || name === '' || users.length === 0 || users.some((u) => u === '')) {
    throw new UsageError(
      `--group ${JSON.stringify(value)}: expected NAME:USER1,USER2 (a group name, a colon, and one or more comma-separated user names)`,
      {
        suggestions: ['--group lab:alice,bob'],
      },
    )
  }
  return {name, users}
}

/** A pipeline name derived from a folder name, when it can make a bucket name. */
export function suggestPipelineName(dir: string): string | undefined {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z]+|[^a-z0-9]+$/g, '')
    .slice(0, 63)
  return name.length >= 3 ? name : undefined
}

/** The group `--yes` gives when none is named: `lab`, with one user named after the pipeline. */
export function defaultGroup(pipelineName: string): GroupAnswer {
  return {name: 'lab', users: [`${pipelineName.slice(0, 59)}-user`]}
}

/**
 * Completes answers from flags without asking: defaults for the optional ones;
 * the name and the groups are required unless `yes` (then derived).
 */
export function completeAnswers(partial: Partial<InitAnswers>, options: {yes: boolean; dir: string}): InitAnswers {
  const missing: string[] = []
  let name = partial.name
  if (name === undefined && options.yes) name = suggestPipelineName(options.dir)
  if (name === undefined) {
    missing.push(
      options.yes
        ? `--name is required: the folder name ${JSON.stringify(basename(resolve(options.dir)))} does not make a bucket name`
        : '--name is required (the pipeline name: its bucket and stack name)',
    )
  }
  let groups = partial.groups && partial.groups.length > 0 ? partial.groups : undefined
  if (groups === undefined && options.yes && name !== undefined) groups = [defaultGroup(name)]
  if (groups === undefined && !(options.yes && name === undefined))
    missing.push('--group is required: at least one group and its users, as --group NAME:USER1,USER2')
  if (missing.length > 0 || name === undefined || groups === undefined) {
    const why = options.yes ? 'With --yes nothing is asked' : 'There is no terminal to ask on (stdin is not a TTY or CI=true)'
    throw new UsageError(`${missing.join('\n')}\n${why}: pass the answers as flags.`, {
      suggestions: ['ncap init my-pipeline --name my-pipeline --group lab:alice,bob', 'ncap init my-pipeline --yes'],
    })
  }
  return {
    name,
    region: partial.region ?? INIT_DEFAULTS.region,
    ami: partial.ami ?? INIT_DEFAULTS.ami,
    instanceType: partial.instanceType ?? INIT_DEFAULTS.instanceType,
    command: partial.command ?? INIT_DEFAULTS.command,
    executionTimeout: partial.executionTimeout ?? INIT_DEFAULTS.executionTimeout,
    ssmTimeout: partial.ssmTimeout ?? INIT_DEFAULTS.ssmTimeout,
    groups,
    ...(partial.contactEmail === undefined ? {} : {contactEmail: partial.contactEmail}),
  }
}

/** One question of the wizard; `validate` returns true or what is wrong. */
export interface Question {
  message: string
  default?: string
  validate: (value: string) => Promise<true | string>
}

/** Where the wizard's answers come from: inquirer on the terminal, or a test's script. */
export type AnswerSource = (question: Question) => Promise<string>

/** Asks on the terminal; the prompts go to stderr so --json output on stdout stays clean. */
export const terminalAnswerSource: AnswerSource = (question) =>
  input({message: question.message, default: question.default, validate: question.validate}, {output: process.stderr})

/** Whether init may ask: a TTY on stdin, not CI, not --yes. */
export function canPrompt(options: {yes: boolean; env?: NodeJS.ProcessEnv; stdinIsTTY?: boolean}): boolean {
  const env = options.env ?? process.env
  return !options.yes && (options.stdinIsTTY ?? process.stdin.isTTY === true) && env.CI !== 'true'
}

function positiveInteger(value: string): number | undefined {
  return /^\d+$/.test(value.trim()) && Number(value) > 0 ? Number(value) : undefined
}

/**
 * The wizard: asks, in order, every answer no flag gave, each with its default
 * and checked as typed; groups are asked as NAME:USER1,USER2 until an empty answer.
 */
export async function askInitAnswers(partial: Partial<InitAnswers>, options: {dir: string; source?: AnswerSource}): Promise<InitAnswers> {
  const ask = options.source ?? terminalAnswerSource
  const answers: Partial<InitAnswers> = {...partial}
  // A candidate answer is checked inside otherwise-valid answers, so only its own problems show.
  const problemWith = async (flag: InitFlag, candidate: Partial<InitAnswers>): Promise<true | string> => {
    const name = candidate.name ?? answers.name ?? 'ncap-pipeline'
    const trial = completeAnswers(
      {...answers, ...candidate, groups: candidate.groups ?? answers.groups ?? [defaultGroup(name)]},
      {yes: true, dir: options.dir},
    )
    const {errors} = await checkAnswers(trial, options.dir)
    const mine = errors.filter((e) => e.flag === flag)
    return mine.length === 0 ? true : mine.map((e) => e.message).join('; ')
  }
  const text = async (key: 'name' | 'region' | 'ami' | 'instanceType' | 'command', flag: InitFlag, message: string, fallback?: string) => {
    if (answers[key] !== undefined) return
    const value = await ask({message, default: fallback, validate: (v) => problemWith(flag, {[key]: v.trim()})})
    answers[key] = value.trim()
  }
  const seconds = async (key: 'executionTimeout' | 'ssmTimeout', flag: InitFlag, message: string, fallback: number) => {
    if (answers[key] !== undefined) return
    const validate = async (v: string) => {
      const n = positiveInteger(v)
      return n === undefined ? `${flag}: expected a whole number of seconds, found ${JSON.stringify(v)}` : problemWith(flag, {[key]: n})
    }
    answers[key] = positiveInteger(await ask({message, default: String(fallback), validate}))
  }

  await text('name', '--name', 'Pipeline name (its bucket and stack name)', suggestPipelineName(options.dir))
  await text('region', '--region', 'AWS region', INIT_DEFAULTS.region)
  await text('ami', '--ami', 'AMI id (the placeholder works on the emulator; replace it for AWS)', INIT_DEFAULTS.ami)
  await text('instanceType', '--instance-type', 'Instance type', INIT_DEFAULTS.instanceType)
  await text('command', '--command', 'Command run on each instance ({} = bucket, data key, result path, config key)', INIT_DEFAULTS.command)
  await seconds(
    'executionTimeout',
    '--execution-timeout',
    "Execution timeout: the submit function's, in seconds (at most 900)",
    INIT_DEFAULTS.executionTimeout,
  )
  await seconds('ssmTimeout', '--ssm-timeout', 'SSM command timeout (seconds)', INIT_DEFAULTS.ssmTimeout)
  if (answers.groups === undefined || answers.groups.length === 0) {
    const groups: GroupAnswer[] = []
    for (;;) {
      const first = groups.length === 0
      const value = await ask({
        message: first ? 'Group and its users (NAME:USER1,USER2)' : 'Another group (NAME:USER1,USER2), empty to finish',
        default: first ? formatGroup(defaultGroup(answers.name!)) : undefined,
        validate: async (v) => {
          if (v.trim() === '') return first ? 'at least one group is needed' : true
          let group: GroupAnswer
          try {
            group = parseGroupFlag(v.trim())
          } catch (error) {
            return (error as Error).message
          }
          return problemWith('--group', {groups: [...groups, group]})
        },
      })
      if (value.trim() === '') break
      groups.push(parseGroupFlag(value.trim()))
    }
    answers.groups = groups
  }
  if (answers.contactEmail === undefined) {
    const email = await ask({
      message: 'Contact e-mail for job notices (empty for none)',
      validate: (v) => (v.trim() === '' ? Promise.resolve(true) : problemWith('--contact-email', {contactEmail: v.trim()})),
    })
    if (email.trim() !== '') answers.contactEmail = email.trim()
  }
  return completeAnswers(answers, {yes: false, dir: options.dir})
}
