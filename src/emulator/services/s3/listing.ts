/**
 * Listing from a bucket's sorted key index. S3 orders keys by their UTF-8
 * bytes (code point order), which differs from JavaScript's UTF-16 order only
 * between surrogates and U+E000–U+FFFF.
 */

export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    let ca = a.charCodeAt(i)
    let cb = b.charCodeAt(i)
    if (ca === cb) continue
    if (ca >= 0xd800 && cb >= 0xd800) {
      // Surrogates encode code points above U+FFFF: move them above the BMP's top.
      if (ca < 0xe000) ca += 0x2800
      if (cb < 0xe000) cb += 0x2800
    }
    return ca - cb
  }
  return a.length - b.length
}

/** Index of the first key for which `before(key)` is false (keys where it holds form a leading run). */
export function partition(keys: string[], before: (key: string) => boolean, from = 0): number {
  let low = from
  let high = keys.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (before(keys[mid] as string)) low = mid + 1
    else high = mid
  }
  return low
}

export function insertKey(keys: string[], key: string): void {
  const index = partition(keys, (k) => compareKeys(k, key) < 0)
  if (keys[index] !== key) keys.splice(index, 0, key)
}

export function removeKey(keys: string[], key: string): void {
  const index = partition(keys, (k) => compareKeys(k, key) < 0)
  if (keys[index] === key) keys.splice(index, 1)
}

export interface ListRequest {
  prefix: string
  delimiter?: string
  maxKeys: number
  /** Items at or before this key (or common prefix) are skipped: StartAfter, Marker, or the continuation point. */
  after?: string
}

export interface ListPage {
  keys: string[]
  commonPrefixes: string[]
  isTruncated: boolean
  /** The last key or common prefix returned, where the next page resumes. */
  last?: string
}

export function listKeys(keys: string[], request: ListRequest): ListPage {
  const {prefix, delimiter, maxKeys, after} = request
  const page: ListPage = {keys: [], commonPrefixes: [], isTruncated: false}
  if (maxKeys <= 0) return page
  const floor = after !== undefined && compareKeys(after, prefix) >= 0 ? after : undefined
  let index = floor === undefined ? partition(keys, (k) => compareKeys(k, prefix) < 0) : partition(keys, (k) => compareKeys(k, floor) <= 0)
  while (index < keys.length) {
    const key = keys[index] as string
    if (!key.startsWith(prefix)) break
    let group: string | undefined
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length)
      if (at >= 0) group = key.slice(0, at + delimiter.length)
    }
    if (group !== undefined && floor !== undefined && compareKeys(group, floor) <= 0) {
      // Every key under a prefix already returned rolls up into it: skip the whole group.
      const skip = group
      index = partition(keys, (k) => compareKeys(k, skip) < 0 || k.startsWith(skip), index)
      continue
    }
    if (page.keys.length + page.commonPrefixes.length >= maxKeys) {
      page.isTruncated = true
      break
    }
    if (group === undefined) {
      page.keys.push(key)
      page.last = key
      index++
    } else {
      const skip = group
      page.commonPrefixes.push(group)
      page.last = group
      index = partition(keys, (k) => compareKeys(k, skip) < 0 || k.startsWith(skip), index)
    }
  }
  return page
}

export interface VersionRequest {
  prefix: string
  delimiter?: string
  maxKeys: number
  keyMarker?: string
  /** With keyMarker: resume after this version of that key. */
  versionIdMarker?: string
}

export interface VersionEntry {
  record: import('./store.js').ObjectRecord
  isLatest: boolean
}

export interface VersionPage {
  versions: VersionEntry[]
  commonPrefixes: string[]
  isTruncated: boolean
  nextKeyMarker?: string
  nextVersionIdMarker?: string
}

/**
 * ListObjectVersions: keys in listing order, each key's versions newest first; max-keys
 * counts versions, delete markers and common prefixes alike.
 */
export function listVersions(
  keys: string[],
  versionsOf: (key: string) => import('./store.js').ObjectRecord[],
  request: VersionRequest,
): VersionPage {
  const {prefix, delimiter, maxKeys, keyMarker, versionIdMarker} = request
  const page: VersionPage = {versions: [], commonPrefixes: [], isTruncated: false}
  if (maxKeys <= 0) return page
  const marker = keyMarker !== undefined && keyMarker !== '' && compareKeys(keyMarker, prefix) >= 0 ? keyMarker : undefined
  let index = partition(keys, (k) => compareKeys(k, marker ?? prefix) < 0)
  let count = 0
  while (index < keys.length) {
    const key = keys[index] as string
    if (!key.startsWith(prefix)) break
    let group: string | undefined
    if (delimiter) {
      const at = key.indexOf(delimiter, prefix.length)
      if (at >= 0) group = key.slice(0, at + delimiter.length)
    }
    if (group !== undefined) {
      const skip = group
      const next = partition(keys, (k) => compareKeys(k, skip) < 0 || k.startsWith(skip), index)
      if (marker === undefined || compareKeys(group, marker) > 0) {
        if (count >= maxKeys) {
          page.isTruncated = true
          break
        }
        page.commonPrefixes.push(group)
        count++
        page.nextKeyMarker = group
        page.nextVersionIdMarker = undefined
      }
      index = next
      continue
    }
    const versions = versionsOf(key)
    let from = 0
    if (key === marker) {
      if (versionIdMarker === undefined || versionIdMarker === '') from = versions.length
      else {
        const at = versions.findIndex((record) => (record.versionId ?? 'null') === versionIdMarker)
        from = at < 0 ? versions.length : at + 1
      }
    }
    for (let i = from; i < versions.length; i++) {
      if (count >= maxKeys) {
        page.isTruncated = true
        return page
      }
      const record = versions[i] as import('./store.js').ObjectRecord
      page.versions.push({record, isLatest: i === 0})
      count++
      page.nextKeyMarker = key
      page.nextVersionIdMarker = record.versionId ?? 'null'
    }
    index++
  }
  return page
}
