// The device policy against the topic the virtual board's firmware really publishes to
// (keyprov/<thing>/hello, outside the default <thing>/...): the policy built with the
// example config's aws.topicPrefixes allows it, the bare default does not. The topic comes
// from mqtt_demo.c itself, and the policy is evaluated by the test's own matcher
// (test/helpers/iot-policy.ts), not by keyprov.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { mockClient } from 'aws-sdk-client-mock';
import { IoTClient, DescribeThingCommand, CreateThingCommand, DescribeCertificateCommand, RegisterCertificateCommand, GetPolicyCommand, CreatePolicyCommand, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { VBOARD_DIR } from '../helpers/vboard.js';
import { tmpDir } from '../helpers/tmp.js';
import { defaultPolicyDocument, scopeFromArn, type PolicyDocument } from '../../src/aws/policy.js';
import { registerBoard } from '../../src/aws/board.js';
import { jitpTemplate } from '../../src/aws/jitp-template.js';
import { loadConfigFile } from '../../src/config/load.js';
import { memoryLogger } from '../../src/log.js';
import { makeTestPki, useFakeAwsEnv } from './fixtures.js';
import { allowed, wildcardMatch } from '../helpers/iot-policy.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** The MQTT topic mqtt_demo.c publishes to, for a thing name, read from the C source. */
function firmwareTopic(thing: string): string {
  const src = readFileSync(path.join(VBOARD_DIR, 'src/mqtt_demo.c'), 'utf8');
  const formats = [...src.matchAll(/snprintf\(\s*cTopic\s*,\s*sizeof\(\s*cTopic\s*\)\s*,\s*"([^"]*)"\s*,\s*pcThing\s*\)/g)].map((m) => m[1]!);
  assert.equal(formats.length, 1, 'mqtt_demo.c formats its topic in one snprintf(cTopic, ..., pcThing)');
  assert.match(src, /xMqttEncodePublishQos1\([^;]*\bcTopic\b/, 'and publishes to cTopic');
  assert.match(src, /pcThing\s*=\s*clientcredentialIOT_THING_NAME\s*;/, 'pcThing is the thing name');
  const format = formats[0]!;
  assert.equal(format.split('%s').length, 2, `one %s in "${format}"`);
  assert.doesNotMatch(format.replace('%s', ''), /%/, 'no other conversion');
  return format.replace('%s', thing);
}

const arn = (kind: string, name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:${kind}/${name}`;

test('the matcher itself: * spans levels, ? is one character, literals must match', () => {
  assert.ok(wildcardMatch('a/*', 'a/b/c'));
  assert.ok(wildcardMatch('a/*/c', 'a/x/y/c'));
  assert.ok(wildcardMatch('a?c', 'abc'));
  assert.ok(!wildcardMatch('a?c', 'ac'));
  assert.ok(!wildcardMatch('a/*', 'a'));
  assert.ok(!wildcardMatch('lab-b1/*', 'lab-b10/hello'));
  assert.ok(wildcardMatch('*', ''));
});

/** aws.topicPrefixes of examples/virtual-board/keyprov.config.yaml, as the real config loader reads it. */
async function exampleTopicPrefixes(): Promise<string[]> {
  const { config } = await loadConfigFile(path.join(VBOARD_DIR, 'keyprov.config.yaml'));
  assert.ok(!config.aws?.enabled, 'the example keeps AWS registration off (the demo runs offline)');
  const prefixes = config.aws?.topicPrefixes;
  assert.ok(prefixes && prefixes.length > 0, 'the example config sets aws.topicPrefixes');
  return prefixes;
}

test("the policy built from the virtual board's example config allows the firmware's topic and denies another thing's", async () => {
  const topicPrefixes = await exampleTopicPrefixes();
  const topic = firmwareTopic('lab-b1');
  // The document registerDevice creates (scoped from the thing ARN), and the unscoped one (dry run, JITP).
  for (const doc of [defaultPolicyDocument({ ...scopeFromArn(arn('thing', 'lab-b1')), topicPrefixes }), defaultPolicyDocument({ topicPrefixes })]) {
    const b1 = { thingName: 'lab-b1', attached: true };
    assert.ok(allowed(doc, 'iot:Connect', arn('client', 'lab-b1'), b1), 'connect with the thing name as client id');
    assert.ok(allowed(doc, 'iot:Publish', arn('topic', topic), b1), `publish to ${topic}`);
    assert.ok(allowed(doc, 'iot:Receive', arn('topic', topic), b1));
    assert.ok(allowed(doc, 'iot:Subscribe', arn('topicfilter', topic), b1));

    // Another thing's topic, and a thing whose name extends this one.
    for (const other of [firmwareTopic('lab-b2'), firmwareTopic('lab-b10')]) {
      assert.ok(!allowed(doc, 'iot:Publish', arn('topic', other), b1), `lab-b1 must not publish to ${other}`);
      assert.ok(!allowed(doc, 'iot:Subscribe', arn('topicfilter', other), b1), `lab-b1 must not subscribe to ${other}`);
    }
    assert.ok(!allowed(doc, 'iot:Connect', arn('client', 'lab-b2'), b1), 'no other client id');
    assert.ok(!allowed(doc, 'iot:Connect', arn('client', 'lab-b1'), { ...b1, attached: false }), 'not with a certificate detached from the thing');
    assert.ok(!allowed(doc, 'iot:UpdateThingShadow', arn('topic', topic), b1), 'no other action');
  }
  // In another account or region the scoped document allows nothing.
  const scoped = defaultPolicyDocument({ ...scopeFromArn(arn('thing', 'lab-b1')), topicPrefixes });
  assert.ok(!allowed(scoped, 'iot:Publish', `arn:aws:iot:us-east-1:${ACCOUNT}:topic/${topic}`, { thingName: 'lab-b1', attached: true }));
});

test("the default policy without the example's prefix denies the firmware's topic (the config entry is needed)", () => {
  const topic = firmwareTopic('lab-b1');
  const b1 = { thingName: 'lab-b1', attached: true };
  for (const doc of [defaultPolicyDocument(scopeFromArn(arn('thing', 'lab-b1'))), defaultPolicyDocument()]) {
    assert.ok(allowed(doc, 'iot:Publish', arn('topic', 'lab-b1/hello'), b1), 'the default allows the thing\'s own prefix');
    assert.ok(!allowed(doc, 'iot:Publish', arn('topic', topic), b1), `the default policy must deny ${topic}`);
    assert.ok(!allowed(doc, 'iot:Subscribe', arn('topicfilter', topic), b1));
  }
});

test('aws.topicPrefixes: extra prefixes name the thing, nothing else is opened', () => {
  const doc = defaultPolicyDocument({ ...scopeFromArn(arn('thing', 'x')), topicPrefixes: ['dt/{{thing}}', 'cmd/{{thing}}/in'] });
  const b1 = { thingName: 'lab-b1', attached: true };
  assert.ok(allowed(doc, 'iot:Publish', arn('topic', 'dt/lab-b1/temperature'), b1));
  assert.ok(allowed(doc, 'iot:Subscribe', arn('topicfilter', 'cmd/lab-b1/in/reboot'), b1));
  assert.ok(allowed(doc, 'iot:Publish', arn('topic', 'lab-b1/hello'), b1), 'the built-in prefixes stay');
  for (const denied of ['dt/lab-b2/temperature', 'dt/lab-b1', 'cmd/lab-b1/out/x', 'dt/other']) {
    assert.ok(!allowed(doc, 'iot:Publish', arn('topic', denied), b1), denied);
  }
  for (const bad of ['fleet/all', 'dt/{{thing}}/#', 'dt/*/{{thing}}', '/{{thing}}', '{{thing}}/', 'dt/${iot:ClientId}/{{thing}}']) {
    assert.throws(() => defaultPolicyDocument({ topicPrefixes: [bad] }), (e: Error & { code?: string }) => e.code === 'AWS_TOPIC_PREFIX_INVALID' && e.message.includes(bad));
  }
  // The JITP template carries the same prefixes.
  const jitp = jitpTemplate({ scope: { topicPrefixes: ['dt/{{thing}}'] } }) as { Resources: { policy: { Properties: { PolicyDocument: string } } } };
  assert.ok(allowed(JSON.parse(jitp.Resources.policy.Properties.PolicyDocument), 'iot:Publish', arn('topic', 'dt/lab-b1/t'), b1));
});

test('aws.topicPrefixes in the config: validated on load, and sent in the policy keyprov creates', async (t) => {
  useFakeAwsEnv();
  const root = tmpDir(t);
  const file = path.join(root, 'keyprov.config.yaml');
  writeFileSync(file, 'aws:\n  topicPrefixes: ["fleet/all"]\n');
  await assert.rejects(loadConfigFile(file), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /aws\.topicPrefixes.*"fleet\/all" must contain \{\{thing\}\}/);
    return true;
  });

  writeFileSync(file, 'credentials:\n  thingName: lab-{{id}}\n  endpoint: localhost\nboards:\n  - id: b1\naws:\n  topicPrefixes: ["dt/{{thing}}"]\n');
  const { config } = await loadConfigFile(file);
  const pki = makeTestPki(root);
  const iot = mockClient(IoTClient);
  t.after(() => iot.restore());
  const notFound = () => new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });
  iot.on(DescribeThingCommand).rejects(notFound());
  iot.on(CreateThingCommand).resolves({ thingArn: arn('thing', 'lab-b1') });
  iot.on(DescribeCertificateCommand).rejects(notFound());
  iot.on(RegisterCertificateCommand).resolves({ certificateArn: arn('cert', pki.deviceId) });
  iot.on(GetPolicyCommand).rejects(notFound());
  await registerBoard({ projectRoot: root, config, client: new IoTClient({}), log: memoryLogger() });
  const sent = JSON.parse(iot.commandCalls(CreatePolicyCommand)[0]!.args[0].input.policyDocument!) as PolicyDocument;
  const b1 = { thingName: 'lab-b1', attached: true };
  assert.ok(allowed(sent, 'iot:Publish', arn('topic', 'dt/lab-b1/temperature'), b1));
  assert.ok(allowed(sent, 'iot:Publish', arn('topic', 'lab-b1/hello'), b1), 'the built-in prefix stays');
  assert.ok(!allowed(sent, 'iot:Publish', arn('topic', 'dt/lab-b2/temperature'), b1));
});
