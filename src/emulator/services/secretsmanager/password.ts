/**
 * GetRandomPassword: AWS's character classes and defaults (32 characters,
 * every class, no space, at least one of each included class), drawn with
 * crypto.randomInt so each character is uniform over the allowed set.
 */
import {randomInt} from 'node:crypto'
import {invalidParameter} from './errors.js'

export interface PasswordOptions {
  PasswordLength?: number
  ExcludeCharacters?: string
  ExcludeNumbers?: boolean
  ExcludePunctuation?: boolean
  ExcludeUppercase?: boolean
  ExcludeLowercase?: boolean
  IncludeSpace?: boolean
  RequireEachIncludedType?: boolean
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const DIGITS = '0123456789'
/** The punctuation AWS draws from: every printable ASCII symbol. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'

export function randomPassword(options: PasswordOptions = {}): string {
  const length = options.PasswordLength ?? 32
  if (!Number.isInteger(length) || length < 1 || length > 4096)
    throw invalidParameter('PasswordLength must be an integer between 1 and 4096.')
  const excluded = new Set(options.ExcludeCharacters ?? '')
  const keep = (chars: string) => [...chars].filter((char) => !excluded.has(char)).join('')
  const classes: string[] = []
  if (!options.ExcludeLowercase) classes.push(keep(LOWER))
  if (!options.ExcludeUppercase) classes.push(keep(UPPER))
  if (!options.ExcludeNumbers) classes.push(keep(DIGITS))
  if (!options.ExcludePunctuation) classes.push(keep(PUNCTUATION))
  if (options.IncludeSpace) classes.push(keep(' '))
  const present = classes.filter((chars) => chars.length > 0)
  const all = present.join('')
  if (all.length === 0) throw invalidParameter('The password must include at least one character: every character type is excluded.')
  const requireEach = options.RequireEachIncludedType ?? true
  if (requireEach && length < present.length)
    throw invalidParameter(
      `The password length ${length} is too short to include one character of each of the ${present.length} included types.`,
    )
  const out: string[] = []
  for (let index = 0; index < length; index++) out.push(all[randomInt(all.length)]!)
  if (requireEach) {
    // Put one character of each class at distinct random positions, so every included type appears.
    const positions = [...Array(length).keys()]
    for (const chars of present) {
      const pick = randomInt(positions.length)
      const position = positions.splice(pick, 1)[0]!
      out[position] = chars[randomInt(chars.length)]!
    }
  }
  return out.join('')
}
