/**
 * The localstack target against a real Docker daemon: finding ncap's container,
 * starting it, waiting for its health endpoint, reusing it. No image can be
 * pulled on these machines, so it runs only where a daemon answers and an image
 * that serves LocalStack's health endpoint is present (NCAP_TEST_LOCALSTACK_IMAGE);
 * otherwise it is skipped, saying which is missing.
 */
import {createRequire} from 'node:module'
import test from 'ava'
import {localstackEndpoint, localstackHealthy} from '../../src/cloud/localstack.js'

const Docker = createRequire(import.meta.url)('dockerode') as new () => {ping(): Promise<unknown>}
const daemon = await new Docker().ping().then(
  () => true,
  () => false,
)
const image = process.env.NCAP_TEST_LOCALSTACK_IMAGE

if (!daemon) {
  test.skip('localstack through Docker: skipped, no Docker daemon answers on this machine', () => {})
} else if (!image) {
  test.skip('localstack through Docker: skipped, no image serving the health endpoint (set NCAP_TEST_LOCALSTACK_IMAGE; images cannot be pulled here)', () => {})
} else {
  test('localstack through Docker: starts ncap’s container, waits for health, reuses it', async (t) => {
    const env = {...process.env, LOCALSTACK_AUTH_TOKEN: 'ls-test', NCAP_LOCALSTACK_IMAGE: image, NCAP_LOCALSTACK_PORT: '45660'}
    const endpoint = await localstackEndpoint(env)
    t.is(endpoint, 'http://127.0.0.1:45660')
    t.true(await localstackHealthy(endpoint))
    t.is(await localstackEndpoint(env), endpoint)
  })
}
