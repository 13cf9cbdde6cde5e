/**
 * The instance runtime on its own (no EC2 in between): a private namespace in
 * which the image is /home/ubuntu over an overlay, its own /tmp, the shims
 * (sudo, poweroff, shutdown, halt, reboot, aws), the metadata endpoint that the
 * SDK v3 and the AWS CLI find the role through, ncap's stand-in for the AWS
 * CLI, folder mode, and no process left after a halt or a SIGKILL of its owner.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {CreateRoleCommand, IAMClient, PutRolePolicyCommand} from '@aws-sdk/client-iam'
import {CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import test from 'ava'
import {createInstanceRuntime, type InstanceRuntimeOptions} from '../../../src/emulator/instances/index.js'
import {hostPathsToKeep} from '../../../src/emulator/instances/sandbox.js'
import type {InstanceSandbox, RoleCredentials} from '../../../src/emulator/instances/types.js'
import {type RunningServer, startServer} from '../../../src/emulator/server.js'

const credentials = {accessKeyId: 'test', secretAccessKey: 'test'}
const region = 'us-east-1'
let server: RunningServer
let dir: string
let image: string
let counter = 0
const ROLE = 'runtime-role'
const HOST_AWS = ['/usr/bin/aws', '/usr/local/bin/aws'].find((path) => existsSync(path))

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ncap-runtime-'))
  image = join(dir, 'image')
  await mkdir(join(image, 'bin'), {recursive: true})
  await writeFile(join(image, 'bin', 'hello.sh'), '#!/bin/bash\necho "hello from $(pwd)"\n')
  await chmod(join(image, 'bin', 'hello.sh'), 0o755)
  await writeFile(join(image, 'data.txt'), 'image data\n')
  server = await startServer({stateDir: join(dir, 'state')})
  const iam = new IAMClient({region, endpoint: server.endpoint, credentials})
  await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::000000000000:root'}, Action: 'sts:AssumeRole'}],
      }),
    }),
  )
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: ROLE,
      PolicyName: 's3',
      PolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 's3:*', Resource: '*'}]}),
    }),
  )
  const s3 = new S3Client({region, endpoint: server.endpoint, credentials, forcePathStyle: true})
  await s3.send(new CreateBucketCommand({Bucket: 'runtime-bucket'}))
  await s3.send(new PutObjectCommand({Bucket: 'runtime-bucket', Key: 'in/one.txt', Body: 'one\n'}))
  await s3.send(new PutObjectCommand({Bucket: 'runtime-bucket', Key: 'in/sub/two.txt', Body: 'two\n'}))
})

test.after.always(async () => {
  await server?.close()
  await rm(dir, {recursive: true, force: true})
})

const roleCredentials = async (): Promise<RoleCredentials> => {
  const sts = new STSClient({region, endpoint: server.endpoint, credentials})
  const {Credentials} = await sts.send(
    new AssumeRoleCommand({RoleArn: `arn:aws:iam::000000000000:role/${ROLE}`, RoleSessionName: 'instance'}),
  )
  sts.destroy()
  return {
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretAccessKey!,
    sessionToken: Credentials!.SessionToken!,
    expiration: Credentials!.Expiration!,
    roleName: ROLE,
  }
}

interface Booted {
  sandbox: InstanceSandbox
  shutdowns: string[]
  instanceDir: string
  logs: string[]
}

async function boot(options: Partial<InstanceRuntimeOptions> = {}, withRole = true): Promise<Booted> {
  const instanceId = `i-${(0x1000000 + ++counter).toString(16).padStart(17, '0')}`
  const instanceDir = join(dir, 'state', 'ec2', 'instances', instanceId)
  const logs: string[] = []
  const runtime = createInstanceRuntime({stateDir: join(dir, 'state'), log: (line) => logs.push(line), ...options})
  const shutdowns: string[] = []
  const sandbox = await runtime.create(
    {
      instanceId,
      region,
      imageId: 'ami-0123456789abcdef0',
      imageDir: image,
      instanceDir,
      instanceType: 't3.micro',
      endpoint: server.endpoint,
      ...(withRole ? {credentials: roleCredentials} : {}),
      clockOffsetMs: () => 0,
    },
    {onShutdownRequest: (kind) => shutdowns.push(kind), onConsoleOutput: () => {}},
  )
  await sandbox.start()
  return {sandbox, shutdowns, instanceDir, logs}
}

async function run(sandbox: InstanceSandbox, script: string, env?: Record<string, string>, workingDirectory?: string) {
  let stdout = ''
  let stderr = ''
  const running = sandbox.exec({
    script,
    ...(env ? {env} : {}),
    ...(workingDirectory ? {workingDirectory} : {}),
    onStdout: (chunk) => {
      stdout += chunk.toString()
    },
    onStderr: (chunk) => {
      stderr += chunk.toString()
    },
  })
  const {exitCode} = await running.done
  return {stdout, stderr, exitCode}
}

const unsetKeys = 'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN; '

test('the image is /home/ubuntu over an overlay: writes stay in the instance, the image is unchanged, /tmp and the process tree are its own', async (t) => {
  const {sandbox, instanceDir} = await boot()
  t.is(sandbox.mode, 'namespace')
  const result = await run(
    sandbox,
    [
      'cat /home/ubuntu/data.txt',
      'echo changed > /home/ubuntu/data.txt',
      'cat ~/data.txt',
      'echo mine > /tmp/own',
      'echo $(ls /tmp)',
      'ps -e -o pid= | wc -l',
      'bin/hello.sh',
      'echo $HOME',
    ].join('\n'),
  )
  t.is(result.exitCode, 0, result.stderr)
  const lines = result.stdout.trim().split('\n')
  // The instance's /tmp holds what it wrote, plus the host folders it keeps when ncap itself lives under /tmp.
  const kept = hostPathsToKeep()
    .filter((p) => p.startsWith('/tmp/'))
    .map((p) => p.split('/')[2]!)
  t.deepEqual(lines.slice(0, 3), ['image data', 'changed', [...new Set(['own', ...kept])].sort().join(' ')])
  t.true(Number(lines[3]) < 10, `only the instance's processes are visible: ${lines[3]}`)
  t.deepEqual(lines.slice(4), ['hello from /home/ubuntu', '/home/ubuntu'])
  t.is(await readFile(join(image, 'data.txt'), 'utf8'), 'image data\n', 'the registered image is never written')
  t.is(await readFile(join(instanceDir, 'upper', 'data.txt'), 'utf8'), 'changed\n')
  t.false(existsSync('/tmp/own'), "the host's /tmp is not the instance's")
  const disk = Number(execFileSync('du', ['-sk', join(instanceDir, 'upper')], {encoding: 'utf8'}).split('\t')[0])
  t.true(disk < 64, `the instance's own layer holds only what it wrote (${disk} KB)`)
  await sandbox.destroy()
})

test('the metadata endpoint answers IMDSv2; the SDK v3 and the AWS CLI inside find the role through it with no keys in the environment', async (t) => {
  const {sandbox} = await boot()
  // IMDSv2 as SDKs speak it: a PUT for a session token, then reads that present it.
  const client = [
    'import os, urllib.request as u',
    "base = os.environ['AWS_EC2_METADATA_SERVICE_ENDPOINT'].rstrip('/')",
    "token = u.urlopen(u.Request(base + '/latest/api/token', method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})).read().decode()",
    "get = lambda path: u.urlopen(u.Request(base + path, headers={'X-aws-ec2-metadata-token': token})).read().decode()",
    "print(get('/latest/meta-data/instance-id'))",
    "print(get('/latest/meta-data/placement/region'))",
    "print(get('/latest/meta-data/iam/security-credentials/'))",
  ].join('\n')
  await writeFile(join(image, 'imds.py'), client)
  const imds = await run(sandbox, 'python3 /home/ubuntu/imds.py')
  t.is(imds.exitCode, 0, imds.stderr)
  const [instanceId, placement, role] = imds.stdout.trim().split('\n')
  t.regex(instanceId ?? '', /^i-[0-9a-f]{17}$/)
  t.is(placement, region)
  t.is(role, ROLE)
  // Written into the image (the host's /tmp is not the instance's): /home/ubuntu/sdk-inside.mjs inside.
  await writeFile(
    join(image, 'sdk-inside.mjs'),
    `import {STSClient, GetCallerIdentityCommand} from ${JSON.stringify(import.meta.resolve('@aws-sdk/client-sts'))}\n` +
      'const out = await new STSClient({}).send(new GetCallerIdentityCommand({}))\nconsole.log(out.Arn)\n',
  )
  const sdk = await run(sandbox, `${unsetKeys}node /home/ubuntu/sdk-inside.mjs`)
  t.is(sdk.stdout.trim(), `arn:aws:sts::000000000000:assumed-role/${ROLE}/instance`, sdk.stderr)
  const cli = await run(sandbox, `${unsetKeys}aws sts get-caller-identity --query Arn --output text`)
  t.is(cli.stdout.trim(), `arn:aws:sts::000000000000:assumed-role/${ROLE}/instance`, cli.stderr)
  await sandbox.destroy()
})

test("the instance's `aws` is the host AWS CLI v2 with the emulator's endpoint added (Debian's v2.9 ignores AWS_ENDPOINT_URL)", async (t) => {
  if (!HOST_AWS) {
    t.log('no AWS CLI at /usr/bin/aws on this host: install it with apt-get install -y awscli to run this test')
    t.pass()
    return
  }
  const {sandbox} = await boot({awsCli: HOST_AWS})
  const result = await run(
    sandbox,
    `${unsetKeys}aws --version; aws s3 ls s3://runtime-bucket/in/; aws s3 cp s3://runtime-bucket/in/one.txt -`,
  )
  t.is(result.exitCode, 0, result.stderr)
  t.regex(result.stdout, /aws-cli\/2\./)
  t.regex(result.stdout, /PRE sub\/\n.* one\.txt\n/)
  t.true(result.stdout.endsWith('one\n'))
  await sandbox.destroy()
})

test("ncap's stand-in for the AWS CLI (forced): s3 cp of files, folders and stdin/stdout, ls, sync, rm, sts get-caller-identity", async (t) => {
  const {sandbox} = await boot({awsCli: null})
  const script = [
    'set -e',
    unsetKeys,
    'aws --version',
    'mkdir -p work/out/deep && echo alpha > work/out/a.txt && echo beta > work/out/deep/b.txt',
    'aws s3 cp work/out/a.txt s3://runtime-bucket/up/a.txt',
    'aws s3 cp work/out s3://runtime-bucket/tree --recursive',
    'echo piped | aws s3 cp - s3://runtime-bucket/up/piped.txt',
    'aws s3 cp s3://runtime-bucket/up/piped.txt -',
    'aws s3 cp s3://runtime-bucket/in ./down --recursive --quiet',
    'cat down/one.txt down/sub/two.txt',
    'aws s3 ls s3://runtime-bucket/tree/',
    'aws s3 sync work/out s3://runtime-bucket/synced',
    'aws s3 sync s3://runtime-bucket/synced ./back',
    'cat back/deep/b.txt',
    'aws s3 rm s3://runtime-bucket/synced --recursive',
    'aws s3 ls s3://runtime-bucket/synced/ || echo "synced gone"',
    'aws sts get-caller-identity --output text',
  ].join('\n')
  const result = await run(sandbox, script)
  t.is(result.exitCode, 0, result.stderr + result.stdout)
  t.regex(result.stdout, /ncap-standin/)
  t.regex(result.stdout, /upload: work\/out\/a\.txt to s3:\/\/runtime-bucket\/up\/a\.txt/)
  t.regex(result.stdout, /\npiped\n/)
  t.regex(result.stdout, /one\ntwo\n/)
  t.regex(result.stdout, /PRE deep\/\n.*a\.txt\n/)
  t.regex(result.stdout, /\nbeta\n/)
  t.regex(result.stdout, /delete: s3:\/\/runtime-bucket\/synced\/a\.txt/)
  t.regex(result.stdout, /synced gone/)
  t.regex(result.stdout, new RegExp(`000000000000\\tarn:aws:sts::000000000000:assumed-role/${ROLE}/instance`))
  const s3 = new S3Client({region, endpoint: server.endpoint, credentials, forcePathStyle: true})
  const object = await s3.send(new GetObjectCommand({Bucket: 'runtime-bucket', Key: 'tree/deep/b.txt'}))
  t.is(await object.Body?.transformToString(), 'beta\n')
  const refused = await run(sandbox, 'aws ec2 describe-instances')
  t.is(refused.exitCode, 252)
  t.regex(refused.stderr, /does not serve "ec2 describe-instances"/)
  await sandbox.destroy()
})

test('sudo runs its command; poweroff, shutdown -h now and halt ask to power off, reboot to restart', async (t) => {
  const {sandbox, shutdowns} = await boot({}, false)
  const result = await run(
    sandbox,
    'sudo -u root echo as-root; sudo FOO=bar env | grep ^FOO=; poweroff; sudo shutdown -h now; halt; reboot; shutdown -r now',
  )
  t.is(result.exitCode, 0, result.stderr)
  t.is(result.stdout, 'as-root\nFOO=bar\n')
  for (let i = 0; i < 100 && shutdowns.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.deepEqual(shutdowns, ['poweroff', 'poweroff', 'poweroff', 'reboot', 'reboot'])
  await sandbox.destroy()
})

test('the working directory is inside the instance (~ is /home/ubuntu); a missing one fails the command', async (t) => {
  const {sandbox} = await boot({}, false)
  const seed = await run(sandbox, 'ls; cd ../../../home/ubuntu; bin/hello.sh', undefined, '~/bin')
  t.is(seed.stdout, 'hello.sh\nhello from /home/ubuntu\n')
  const missing = await run(sandbox, 'echo never', undefined, '/nope')
  t.is(missing.exitCode, 1)
  t.regex(missing.stderr, /working directory \/nope does not exist/)
  await sandbox.destroy()
})

/** Whether a pid is a live process (not gone, not a zombie waiting for a host init that does not reap). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Every live host process whose pid namespace is `ns`. */
function processesIn(ns: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === ns && alive(Number(name))) found.push(Number(name))
    } catch {
      // Gone while scanning.
    }
  }
  return found
}

test('halt kills every process of the instance, daemonized ones too', async (t) => {
  const {sandbox} = await boot({}, false)
  let ns = ''
  const running = sandbox.exec({
    script: 'setsid sleep 500 & (nohup sleep 501 >/dev/null 2>&1 &); readlink /proc/self/ns/pid; sleep 502',
    onStdout: (chunk) => {
      ns += chunk.toString()
    },
  })
  for (let i = 0; i < 200 && !ns.includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  ns = ns.trim()
  t.true(processesIn(ns).length >= 4, `init, the script and its sleeps: ${processesIn(ns).length}`)
  await sandbox.halt()
  t.deepEqual(await running.done, {exitCode: null, signal: 'SIGKILL'})
  for (let i = 0; i < 100 && processesIn(ns).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.deepEqual(processesIn(ns), [])
  await sandbox.destroy()
})

test('no process of an instance outlives its emulator: SIGKILL of the owning process takes them all (checked in /proc)', async (t) => {
  const holder = join(import.meta.dirname, 'fixtures', 'holder.ts')
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', holder, join(dir, 'state-kill'), image, join(dir, 'state-kill', 'i-kill')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let line = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      line += chunk.toString()
      if (line.includes('\n')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)))
  })
  const {ns, pids} = JSON.parse(line) as {ns: string; pids: number[]}
  t.true(processesIn(ns).length >= 5, 'init, the script and three sleeps run')
  child.kill('SIGKILL')
  for (let i = 0; i < 100 && processesIn(ns).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.deepEqual(processesIn(ns), [], 'nothing is left in the namespace')
  t.deepEqual(
    pids.filter((pid) => alive(pid)),
    [],
    'unshare, init and nsenter are gone too',
  )
})

test('folder mode: the instance runs in a hard-linked copy of its image with HOME set to it, and the emulator says so once', async (t) => {
  const first = await boot({mode: 'folder'}, false)
  t.is(first.sandbox.mode, 'folder')
  const result = await run(first.sandbox, 'echo $HOME; pwd; cat data.txt; bin/hello.sh', undefined, '/home/ubuntu')
  const root = join(first.instanceDir, 'root')
  t.is(result.stdout, `${root}\n${root}\nimage data\nhello from ${root}\n`)
  t.is(first.logs.length, 1)
  t.regex(first.logs[0] ?? '', /HOME set to them/)
  t.is((first.sandbox as unknown as {copiedAs: string}).copiedAs, 'hardlink')
  await first.sandbox.destroy()
})
