// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JS templates
/**
 * The IAM matrix, end to end: two groups of one bucket, each with the policy
 * ncap's compiler emits (src/template/identity.ts), and each group's user
 * driving the real S3 client with its own key against the emulator. Every
 * cross-group read, write, list and delete is refused; every own-group
 * operation the policy grants is allowed; what it does not grant is refused
 * even in the own folder.
 */
import * as iam from '@aws-sdk/client-iam'
import * as s3 from '@aws-sdk/client-s3'
import test from 'ava'
import {groupPolicyDocument} from '../../../src/template/identity.js'
import {emulator, iamClient, type Keys, rejects} from './helpers.js'

const BUCKET = 'matrix-bucket'
const GROUPS = ['alpha', 'beta'] as const

/** Resolves the Fn::Sub strings of the compiled policy as CloudFormation would in account 000000000000. */
function resolveSubs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveSubs)
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
    if (entries.length === 1 && entries[0]![0] === 'Fn::Sub') {
      return String(entries[0]![1])
        .replaceAll('${AWS::Partition}', 'aws')
        .replaceAll('${AWS::AccountId}', '000000000000')
        .replaceAll('${!', '${')
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, resolveSubs(item)]))
  }
  return value
}

const s3Client = (endpoint: string, credentials: Keys) =>
  new s3.S3Client({endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1})

test('two groups: own folders as granted, the other group refused for read, write, list and delete', async (t) => {
  const {server} = await emulator()
  t.teardown(() => server.close())
  const admin = iamClient(server.endpoint)
  const adminS3 = s3Client(server.endpoint, {accessKeyId: 'test', secretAccessKey: 'test'})
  await adminS3.send(new s3.CreateBucketCommand({Bucket: BUCKET}))
  const keys: Record<string, Keys> = {}
  for (const group of GROUPS) {
    const policy = resolveSubs(groupPolicyDocument({literal: BUCKET}, group, {inDir: 'inputs', outDir: 'results'}))
    await admin.send(new iam.CreateGroupCommand({GroupName: group}))
    await admin.send(
      new iam.PutGroupPolicyCommand({GroupName: group, PolicyName: `${group}-policy`, PolicyDocument: JSON.stringify(policy)}),
    )
    await admin.send(new iam.CreateUserCommand({UserName: `${group}-user`}))
    await admin.send(new iam.AddUserToGroupCommand({GroupName: group, UserName: `${group}-user`}))
    const key = await admin.send(new iam.CreateAccessKeyCommand({UserName: `${group}-user`}))
    keys[group] = {accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey!}
    for (const folder of ['inputs', 'configs', 'submissions', 'results']) {
      await adminS3.send(new s3.PutObjectCommand({Bucket: BUCKET, Key: `${group}/${folder}/seed.txt`, Body: `${group} ${folder}`}))
    }
  }

  let allowed = 0
  let refused = 0
  const expectAllowed = async (what: string, call: () => Promise<unknown>) => {
    await t.notThrowsAsync(call(), what)
    allowed++
  }
  const expectRefused = async (what: string, call: () => Promise<unknown>) => {
    const error = await t.throwsAsync(call(), undefined, what)
    t.is(error?.name, 'AccessDenied', `${what}: ${error?.message}`)
    refused++
  }

  for (const caller of GROUPS) {
    const client = s3Client(server.endpoint, keys[caller]!)
    for (const target of GROUPS) {
      const own = caller === target
      const check = own ? expectAllowed : expectRefused
      const who = `${caller} on ${target}`
      for (const folder of ['inputs', 'configs', 'submissions']) {
        await check(`${who}: put ${folder}`, () =>
          client.send(new s3.PutObjectCommand({Bucket: BUCKET, Key: `${target}/${folder}/new.txt`, Body: 'x'})),
        )
      }
      for (const folder of ['results', 'configs']) {
        await check(`${who}: get ${folder}`, () =>
          client
            .send(new s3.GetObjectCommand({Bucket: BUCKET, Key: `${target}/${folder}/seed.txt`}))
            .then((r) => r.Body?.transformToString()),
        )
      }
      for (const prefix of [`${target}/`, `${target}/results/`]) {
        await check(`${who}: list ${prefix}`, () => client.send(new s3.ListObjectsV2Command({Bucket: BUCKET, Prefix: prefix})))
      }
      await check(`${who}: start and abort a multipart upload`, async () => {
        const upload = await client.send(new s3.CreateMultipartUploadCommand({Bucket: BUCKET, Key: `${target}/inputs/big.bin`}))
        await client.send(new s3.AbortMultipartUploadCommand({Bucket: BUCKET, Key: `${target}/inputs/big.bin`, UploadId: upload.UploadId}))
      })
      // Not granted by the policy, so refused even in the caller's own folders.
      await expectRefused(`${who}: put results`, () =>
        client.send(new s3.PutObjectCommand({Bucket: BUCKET, Key: `${target}/results/forged.txt`, Body: 'x'})),
      )
      await expectRefused(`${who}: get inputs`, () =>
        client.send(new s3.GetObjectCommand({Bucket: BUCKET, Key: `${target}/inputs/seed.txt`})),
      )
      await expectRefused(`${who}: get submissions`, () =>
        client.send(new s3.GetObjectCommand({Bucket: BUCKET, Key: `${target}/submissions/seed.txt`})),
      )
      for (const folder of ['inputs', 'results']) {
        await expectRefused(`${who}: delete ${folder}`, () =>
          client.send(new s3.DeleteObjectCommand({Bucket: BUCKET, Key: `${target}/${folder}/seed.txt`})),
        )
      }
    }
    await expectRefused(`${caller}: list the whole bucket`, () => client.send(new s3.ListObjectsV2Command({Bucket: BUCKET})))
    await expectRefused(`${caller}: list ${caller}x/ (a look-alike prefix)`, () =>
      client.send(new s3.ListObjectsV2Command({Bucket: BUCKET, Prefix: `${caller}x/`})),
    )
    await expectRefused(`${caller}: list buckets`, () => client.send(new s3.ListBucketsCommand({})))
    await expectRefused(`${caller}: delete the bucket`, () => client.send(new s3.DeleteBucketCommand({Bucket: BUCKET})))
  }
  t.log(`${allowed} own-group operations allowed, ${refused} refused`)

  // Nothing the refused calls tried reached the store.
  const all = await adminS3.send(new s3.ListObjectsV2Command({Bucket: BUCKET}))
  const keysInBucket = (all.Contents ?? []).map((object) => object.Key!)
  t.false(keysInBucket.some((key) => key.endsWith('forged.txt')))
  for (const group of GROUPS) t.true(keysInBucket.includes(`${group}/inputs/seed.txt`))
  t.is(keysInBucket.filter((key) => key.endsWith('new.txt')).length, 6, 'only own-group puts landed')

  // The compiled policy also lets a user change its own password and read the (absent) password policy.
  await admin.send(new iam.CreateLoginProfileCommand({UserName: 'alpha-user', Password: 'initial-password-1'}))
  const alphaIam = iamClient(server.endpoint, keys.alpha!)
  await alphaIam.send(new iam.ChangePasswordCommand({OldPassword: 'initial-password-1', NewPassword: 'changed-password-2'}))
  await rejects(t, alphaIam.send(new iam.GetAccountPasswordPolicyCommand({})), 'NoSuchEntityException', 404)
  await rejects(t, alphaIam.send(new iam.ListUsersCommand({})), 'AccessDenied', 403)
})
