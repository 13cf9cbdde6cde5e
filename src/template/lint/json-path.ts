/** JSON paths as Diagnostic.path spells them: $.Resources.Bucket.Properties["Fn::Sub"][0] */

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`
  return PLAIN_KEY.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`
}

export function pathOf(...keys: (string | number)[]): string {
  return keys.reduce<string>((path, key) => childPath(path, key), '$')
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
