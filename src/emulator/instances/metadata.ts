/**
 * The instance metadata endpoint of one instance, as EC2's IMDS answers it:
 * IMDSv2 session tokens (PUT /latest/api/token) and IMDSv1 reads both accepted
 * (AWS's default, HttpTokens optional), the instance's id, type, AMI and
 * placement, its user data, the identity document, and the role's credentials
 * under iam/security-credentials/ROLE in AWS's JSON, renewed as they near
 * expiry. SDKs and the AWS CLI inside reach it through
 * AWS_EC2_METADATA_SERVICE_ENDPOINT. It also takes the instance's own shutdown
 * requests (the `poweroff` shims call POST /ncap/<secret>/shutdown).
 */
import {randomBytes} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {RoleCredentials, SandboxSpec} from './types.js'

export interface MetadataServer {
  endpoint: string
  port: number
  /** The path prefix shims use for control requests. */
  controlPath: string
  close(): Promise<void>
}

const TOKEN_TTL_MAX = 21_600
/** How long after `poweroff` the instance starts going down. */
export const SHUTDOWN_DELAY_MS = 300

export async function startMetadataServer(
  spec: SandboxSpec,
  onShutdown: (kind: 'poweroff' | 'reboot') => void,
  now: () => number,
): Promise<MetadataServer> {
  const secret = randomBytes(12).toString('hex')
  const controlPath = `/ncap/${secret}`
  const tokens = new Map<string, number>()
  let cached: RoleCredentials | undefined
  const availabilityZone = `${spec.region}a`
  const localIp = '127.0.0.1'

  const credentials = async (): Promise<RoleCredentials | undefined> => {
    if (!spec.credentials) return undefined
    // Renewed once less than five minutes remain, as the real endpoint rotates them ahead of expiry.
    if (!cached || cached.expiration.getTime() - now() < 5 * 60_000) cached = await spec.credentials()
    return cached
  }

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), server: 'EC2ws'})
    res.end(body)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://169.254.169.254')
    const path = url.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '') || '/'
    if (path.startsWith(controlPath) && req.method === 'POST') {
      const kind = url.searchParams.get('kind') === 'reboot' ? 'reboot' : 'poweroff'
      send(res, 200, 'ok\n')
      // A real poweroff takes a moment before processes are signalled: a script that ends right after it ends on its own.
      setTimeout(() => onShutdown(kind), SHUTDOWN_DELAY_MS).unref()
      return
    }
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return send(res, 405, '')
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds'])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > TOKEN_TTL_MAX) return send(res, 400, '')
      const token = randomBytes(32).toString('base64url')
      tokens.set(token, Date.now() + ttl * 1000)
      res.setHeader('x-aws-ec2-metadata-token-ttl-seconds', String(ttl))
      return send(res, 200, token)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '')
    const token = req.headers['x-aws-ec2-metadata-token']
    if (typeof token === 'string') {
      const expires = tokens.get(token)
      if (!expires || expires < Date.now()) return send(res, 401, '')
    }
    const roleCredentials = await credentials().catch(() => undefined)
    const role = roleCredentials?.roleName
    const tree: Record<string, string | undefined> = {
      '/latest/meta-data/ami-id': spec.imageId,
      '/latest/meta-data/instance-id': spec.instanceId,
      '/latest/meta-data/instance-type': spec.instanceType,
      '/latest/meta-data/hostname': `ip-127-0-0-1.ec2.internal`,
      '/latest/meta-data/local-hostname': `ip-127-0-0-1.ec2.internal`,
      '/latest/meta-data/local-ipv4': localIp,
      '/latest/meta-data/placement/region': spec.region,
      '/latest/meta-data/placement/availability-zone': availabilityZone,
      '/latest/meta-data/services/domain': 'amazonaws.com',
      '/latest/meta-data/services/partition': 'aws',
    }
    if (path === '/latest/meta-data') {
      const names = ['ami-id', 'hostname', 'instance-id', 'instance-type', 'local-hostname', 'local-ipv4', 'placement/', 'services/']
      if (role) names.push('iam/')
      return send(res, 200, names.join('\n'))
    }
    if (path === '/latest/meta-data/placement') return send(res, 200, 'availability-zone\nregion')
    if (path === '/latest/meta-data/services') return send(res, 200, 'domain\npartition')
    if (tree[path] !== undefined) return send(res, 200, tree[path])
    if (path === '/latest/user-data') {
      return spec.userData === undefined ? send(res, 404, '') : send(res, 200, spec.userData)
    }
    if (path === '/latest/dynamic/instance-identity/document') {
      const document = {
        accountId: '000000000000',
        architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
        availabilityZone,
        imageId: spec.imageId,
        instanceId: spec.instanceId,
        instanceType: spec.instanceType,
        pendingTime: new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z'),
        privateIp: localIp,
        region: spec.region,
        version: '2017-09-30',
      }
      return send(res, 200, JSON.stringify(document, null, 2), 'application/json')
    }
    if (role && path === '/latest/meta-data/iam') return send(res, 200, 'info\nsecurity-credentials/')
    if (role && path === '/latest/meta-data/iam/info') {
      const info = {
        Code: 'Success',
        LastUpdated: new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z'),
        InstanceProfileArn: `arn:aws:iam::000000000000:instance-profile/${role}`,
        InstanceProfileId: 'AIPA000000000000EXAMPLE',
      }
      return send(res, 200, JSON.stringify(info, null, 2))
    }
    if (role && path === '/latest/meta-data/iam/security-credentials') return send(res, 200, role)
    if (role && roleCredentials && path === `/latest/meta-data/iam/security-credentials/${role}`) {
      const body = {
        Code: 'Success',
        LastUpdated: new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z'),
        Type: 'AWS-HMAC',
        AccessKeyId: roleCredentials.accessKeyId,
        SecretAccessKey: roleCredentials.secretAccessKey,
        Token: roleCredentials.sessionToken,
        Expiration: roleCredentials.expiration.toISOString().replace(/\.\d+Z$/, 'Z'),
      }
      return send(res, 200, JSON.stringify(body, null, 2))
    }
    return send(res, 404, '<?xml version="1.0" encoding="iso-8859-1"?>\n<title>404 - Not Found</title>\n', 'text/html')
  }

  const server: Server = createServer((req, res) => {
    req.resume()
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, '')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  server.unref()
  const port = (server.address() as AddressInfo).port
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    controlPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
