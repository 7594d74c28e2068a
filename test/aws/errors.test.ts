// The error cases through the real SDK stack (credential chain, region resolution,
// retry strategy, deserializer) with a request handler that answers locally: nothing
// here reaches the network.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DescribeThingCommand } from '@aws-sdk/client-iot';
import { createIotClient, DEFAULT_MAX_ATTEMPTS, resolveRegion } from '../../src/aws/client.js';
import { IotSession } from '../../src/aws/session.js';
import { mapAwsError } from '../../src/aws/errors.js';
import { KeyprovError } from '../../src/errors.js';
import { FAKE_AWS_ENV, useFakeAwsEnv } from './fixtures.js';

beforeEach(() => useFakeAwsEnv());

/** A request handler that answers every request with this AWS error, counting requests. */
function answering(status: number, errorType: string, message: string) {
  const seen: { count: number; at: number[] } = { count: 0, at: [] };
  const requestHandler = {
    handle: async () => {
      seen.count++;
      seen.at.push(Date.now());
      return {
        response: {
          statusCode: status,
          headers: { 'x-amzn-errortype': errorType, 'content-type': 'application/json' },
          body: Readable.from([Buffer.from(JSON.stringify({ message }))]),
        },
      };
    },
  };
  return { seen, requestHandler };
}

async function describeThing(client: Awaited<ReturnType<typeof createIotClient>>) {
  const s = await IotSession.open(client);
  return s.send(new DescribeThingCommand({ thingName: 'lab-b1' }));
}

test('the client retries with backoff (standard mode) and takes maxAttempts from the config', async () => {
  const client = await createIotClient({ config: { aws: { region: 'eu-west-1', maxAttempts: 7 } } });
  assert.equal(await client.config.maxAttempts(), 7);
  const strategy = (await (client.config.retryStrategy as unknown as () => Promise<{ mode: string }>)());
  assert.equal(strategy.mode, 'standard');
  assert.equal(await client.config.region(), 'eu-west-1');
  assert.equal(await (await createIotClient({})).config.maxAttempts(), DEFAULT_MAX_ATTEMPTS);
});

test('throttling: the SDK retries with backoff, then the error says so', async () => {
  const { seen, requestHandler } = answering(400, 'ThrottlingException', 'Rate exceeded');
  const client = await createIotClient({ config: { aws: { maxAttempts: 3 } }, clientConfig: { requestHandler } });
  await assert.rejects(describeThing(client), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_THROTTLED');
    assert.match(e.message, /AWS IoT throttled iot:DescribeThing on all 3 attempts: Rate exceeded/);
    assert.match(e.hint!, /aws\.maxAttempts/);
    return true;
  });
  assert.equal(seen.count, 3, 'three attempts were made');
});

test('AccessDenied from the service names the action (real deserializer)', async () => {
  const { requestHandler } = answering(403, 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iot:DescribeThing on resource: x');
  const client = await createIotClient({ clientConfig: { requestHandler } });
  await assert.rejects(describeThing(client), (e: KeyprovError) => e.code === 'AWS_ACCESS_DENIED' && /AWS denied iot:DescribeThing to arn:aws:iam::123456789012:user\/ci/.test(e.message));
});

test('no credentials anywhere: a usage error that says how to log in', async () => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[k];
  const { seen, requestHandler } = answering(200, '', '');
  const client = await createIotClient({ clientConfig: { requestHandler } });
  await assert.rejects(describeThing(client), (e: KeyprovError) => {
    assert.equal(e.code, 'AWS_NO_CREDENTIALS');
    assert.equal(e.exitCode, 2);
    assert.match(e.hint!, /aws sso login|aws configure/);
    return true;
  });
  assert.equal(seen.count, 0, 'no request was sent');
});

test('no region anywhere: says where to set it; a malformed region is refused before any call', async () => {
  delete process.env.AWS_REGION;
  const { seen, requestHandler } = answering(200, '', '');
  const client = await createIotClient({ clientConfig: { requestHandler } });
  await assert.rejects(describeThing(client), (e: KeyprovError) => e.code === 'AWS_REGION_MISSING' && /aws\.region/.test(e.hint!));
  assert.equal(seen.count, 0);
  assert.throws(() => resolveRegion({ region: 'Europe', env: {} }), (e: KeyprovError) => e.code === 'AWS_REGION_INVALID' && e.exitCode === 2);
  assert.equal(resolveRegion({ env: { AWS_DEFAULT_REGION: 'ap-southeast-2' } }), 'ap-southeast-2');
  assert.equal(resolveRegion({ region: 'us-east-1', config: { aws: { region: 'eu-west-1' } }, env: FAKE_AWS_ENV }), 'us-east-1');
});

test('mapping: unknown region host, expired session, conflicts, pass-through of KeyprovError', () => {
  const dns = Object.assign(new Error('getaddrinfo ENOTFOUND iot.eu-wst-1.amazonaws.com'), { code: 'ENOTFOUND' });
  assert.equal(mapAwsError(dns, { action: 'iot:DescribeThing', region: 'eu-wst-1' }).code, 'AWS_UNREACHABLE');
  assert.equal(mapAwsError(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }), { action: 'iot:X' }).code, 'AWS_CREDENTIALS_EXPIRED');
  assert.equal(mapAwsError(Object.assign(new Error('in use'), { name: 'DeleteConflictException' }), { action: 'iot:DeleteThing' }).code, 'AWS_CONFLICT');
  const own = new KeyprovError('X', 'y');
  assert.equal(mapAwsError(own, { action: 'iot:X' }), own);
  const other = mapAwsError(Object.assign(new Error('boom'), { name: 'InternalFailureException' }), { action: 'iot:CreateThing' });
  assert.equal(other.code, 'AWS_FAILED');
  assert.equal(other.exitCode, 3);
});
