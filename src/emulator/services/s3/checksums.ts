/**
 * What S3 computes over every byte of a body: the MD5 behind the ETag, the
 * length, and the flexible checksums a client asked for (CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256), all in one pass so a body is read once.
 */

import {createHash, type Hash} from 'node:crypto'
import {crc32} from 'node:zlib'
import {Crc32c} from '@aws-crypto/crc32c'

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number]
/** Base64 checksums by algorithm, as S3 returns them in x-amz-checksum-* headers. */
export type Checksums = Partial<Record<ChecksumAlgorithm, string>>

export function checksumAlgorithmOf(name: string | undefined): ChecksumAlgorithm | undefined {
  if (name === undefined) return undefined
  const upper = name.toUpperCase()
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined
}

export const checksumHeader = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`

interface Digest {
  update(chunk: Buffer): void
  digest(): Buffer
}

function uint32Digest(update: (chunk: Buffer, previous: number) => number): Digest {
  let value = 0
  return {
    update: (chunk) => {
      value = update(chunk, value)
    },
    digest: () => {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(value >>> 0)
      return out
    },
  }
}

function crc32cDigest(): Digest {
  const state = new Crc32c()
  return {
    update: (chunk) => {
      state.update(chunk)
    },
    digest: () => {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(state.digest() >>> 0)
      return out
    },
  }
}

// CRC64/NVME (reflected, polynomial 0x9a6c9329ac4bc9b5), kept as two 32-bit halves to avoid BigInt per byte.
const CRC64_LO = new Uint32Array(256)
const CRC64_HI = new Uint32Array(256)
{
  const polyLo = 0xac4bc9b5
  const polyHi = 0x9a6c9329
  for (let n = 0; n < 256; n++) {
    let lo = n
    let hi = 0
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0
      hi >>>= 1
      if (carry) {
        lo = (lo ^ polyLo) >>> 0
        hi = (hi ^ polyHi) >>> 0
      }
    }
    CRC64_LO[n] = lo
    CRC64_HI[n] = hi
  }
}

function crc64NvmeDigest(): Digest {
  let lo = 0xffffffff
  let hi = 0xffffffff
  return {
    update: (chunk) => {
      for (let i = 0; i < chunk.length; i++) {
        const index = (lo ^ (chunk[i] as number)) & 0xff
        lo = (((lo >>> 8) | (hi << 24)) ^ (CRC64_LO[index] as number)) >>> 0
        hi = ((hi >>> 8) ^ (CRC64_HI[index] as number)) >>> 0
      }
    },
    digest: () => {
      const out = Buffer.alloc(8)
      out.writeUInt32BE(~hi >>> 0, 0)
      out.writeUInt32BE(~lo >>> 0, 4)
      return out
    },
  }
}

function hashDigest(name: string): Digest {
  const hash: Hash = createHash(name)
  return {update: (chunk) => hash.update(chunk), digest: () => hash.digest()}
}

export function newDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'CRC32':
      return uint32Digest((chunk, previous) => crc32(chunk, previous))
    case 'CRC32C':
      return crc32cDigest()
    case 'CRC64NVME':
      return crc64NvmeDigest()
    case 'SHA1':
      return hashDigest('sha1')
    case 'SHA256':
      return hashDigest('sha256')
  }
}

export interface BodyDigests {
  size: number
  md5: Buffer
  checksums: Checksums
}

/** Hashes a body as it streams past: MD5 always, and the named checksums. */
export class BodyHasher {
  size = 0
  private readonly md5 = createHash('md5')
  private digests: [ChecksumAlgorithm, Digest][]
  private offloaded: readonly ChecksumAlgorithm[] | undefined
  private remote: {md5: Buffer; checksums: Checksums} | undefined

  constructor(algorithms: Iterable<ChecksumAlgorithm>) {
    this.digests = [...new Set(algorithms)].map((algorithm) => [algorithm, newDigest(algorithm)])
  }

  /**
   * Hands MD5 and the algorithms in `elsewhere` to another hasher (a worker thread) before any byte
   * is hashed: from then on update() hashes only the others, and finish() takes the rest's results.
   * Returns the algorithms handed over.
   */
  offload(elsewhere: ReadonlySet<ChecksumAlgorithm>): ChecksumAlgorithm[] {
    if (this.size > 0 || this.offloaded) throw new Error('a body hasher can only hand over before its first byte')
    const handed = this.digests.filter(([algorithm]) => elsewhere.has(algorithm)).map(([algorithm]) => algorithm)
    this.digests = this.digests.filter(([algorithm]) => !elsewhere.has(algorithm))
    this.offloaded = handed
    return handed
  }

  update(chunk: Buffer): void {
    this.size += chunk.length
    if (!this.offloaded) this.md5.update(chunk)
    for (const [, digest] of this.digests) digest.update(chunk)
  }

  /** The MD5 and checksums computed elsewhere after offload(). */
  adopt(remote: {md5: Buffer; checksums: Checksums}): void {
    this.remote = remote
  }

  finish(): BodyDigests {
    const remote = this.remote
    if (this.offloaded && !remote) throw new Error('an offloaded body hasher needs the remote digests')
    const checksums: Checksums = {}
    for (const algorithm of this.offloaded ?? []) {
      const value = remote?.checksums[algorithm]
      if (value === undefined) throw new Error(`the remote digests lack ${algorithm}`)
      checksums[algorithm] = value
    }
    for (const [algorithm, digest] of this.digests) checksums[algorithm] = digest.digest().toString('base64')
    return {size: this.size, md5: this.offloaded ? (remote as {md5: Buffer}).md5 : this.md5.digest(), checksums}
  }
}

/** S3's checksum of a multipart object: the checksum of the parts' binary checksums, suffixed with the part count. */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: string[]): string {
  const digest = newDigest(algorithm)
  for (const part of partChecksums) digest.update(Buffer.from(part, 'base64'))
  return `${digest.digest().toString('base64')}-${partChecksums.length}`
}
