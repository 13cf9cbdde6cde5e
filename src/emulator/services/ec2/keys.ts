/** Key pairs as EC2 makes and fingerprints them: RSA (PEM private key, SHA-1 of PKCS#8 for created, MD5 of the public key for imported) and ED25519 (SHA-256). */
import {createHash, createPublicKey, generateKeyPair, type KeyObject} from 'node:crypto'
import {promisify} from 'node:util'
import {AwsError} from '../../errors.js'

const generate = promisify(generateKeyPair)

const colonHex = (buffer: Buffer) => buffer.toString('hex').match(/../g)!.join(':')

function sshString(buffer: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(buffer.length)
  return Buffer.concat([length, buffer])
}

const mpint = (value: Buffer) => sshString(value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value)

function openSshPublic(key: KeyObject, type: 'rsa' | 'ed25519'): {line: string; blob: Buffer} {
  const jwk = key.export({format: 'jwk'})
  const blob =
    type === 'rsa'
      ? Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))])
      : Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(jwk.x!, 'base64url'))])
  return {line: `${type === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519'} ${blob.toString('base64')}`, blob}
}

export interface MadeKey {
  keyMaterial: string
  fingerprint: string
  publicKey: string
}

export async function createKey(type: 'rsa' | 'ed25519', format: 'pem' | 'ppk'): Promise<MadeKey> {
  if (format === 'ppk') throw new AwsError('InvalidParameterValue', 'The ncap emulator makes key pairs in the pem format only.')
  if (type === 'rsa') {
    const {publicKey, privateKey} = await generate('rsa', {modulusLength: 2048})
    const pkcs8 = privateKey.export({format: 'der', type: 'pkcs8'})
    return {
      keyMaterial: privateKey.export({format: 'pem', type: 'pkcs1'}).toString().trim(),
      fingerprint: colonHex(createHash('sha1').update(pkcs8).digest()),
      publicKey: openSshPublic(publicKey, 'rsa').line,
    }
  }
  const {publicKey, privateKey} = await generate('ed25519')
  const ssh = openSshPublic(publicKey, 'ed25519')
  return {
    keyMaterial: privateKey.export({format: 'pem', type: 'pkcs8'}).toString().trim(),
    fingerprint: `${createHash('sha256').update(ssh.blob).digest('base64').replace(/=+$/, '')}`,
    publicKey: ssh.line,
  }
}

function readSsh(blob: Buffer): Buffer[] {
  const parts: Buffer[] = []
  let at = 0
  while (at + 4 <= blob.length) {
    const length = blob.readUInt32BE(at)
    if (at + 4 + length > blob.length) throw new Error('truncated')
    parts.push(blob.subarray(at + 4, at + 4 + length))
    at += 4 + length
  }
  return parts
}

const unsigned = (value: Buffer) => (value[0] === 0 ? value.subarray(1) : value)

/** An imported OpenSSH public key (ssh-rsa or ssh-ed25519): its type, fingerprint and canonical line. */
export function importKey(material: string): {type: 'rsa' | 'ed25519'; fingerprint: string; publicKey: string} {
  const invalid = new AwsError('InvalidKey.Format', 'Key is not in valid OpenSSH public key format')
  const [kind, data] = material.trim().split(/\s+/)
  if (!data || (kind !== 'ssh-rsa' && kind !== 'ssh-ed25519')) throw invalid
  const blob = Buffer.from(data, 'base64')
  let parts: Buffer[]
  try {
    parts = readSsh(blob)
  } catch {
    throw invalid
  }
  if (parts[0]?.toString() !== kind) throw invalid
  if (kind === 'ssh-ed25519') {
    if (parts[1]?.length !== 32) throw invalid
    return {
      type: 'ed25519',
      fingerprint: createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''),
      publicKey: `${kind} ${data}`,
    }
  }
  try {
    const key = createPublicKey({
      key: {kty: 'RSA', e: unsigned(parts[1]!).toString('base64url'), n: unsigned(parts[2]!).toString('base64url')},
      format: 'jwk',
    })
    const der = key.export({format: 'der', type: 'spki'})
    return {type: 'rsa', fingerprint: colonHex(createHash('md5').update(der).digest()), publicKey: `${kind} ${data}`}
  } catch {
    throw invalid
  }
}
