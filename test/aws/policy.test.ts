import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicyDocument, scopeFromArn, THING_NAME_VARIABLE, type PolicyDocument } from '../../src/aws/policy.js';
import { jitpTemplate } from '../../src/aws/jitp-template.js';

const ALLOWED_ACTIONS = new Set(['iot:Connect', 'iot:Publish', 'iot:Receive', 'iot:Subscribe']);

/** Every resource is the thing's own client id, or a topic (filter) under one of its own prefixes. */
function assertScoped(doc: PolicyDocument, thing: string, arnPrefix: string): void {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const t = esc(thing);
  const own = [
    new RegExp(`^${esc(arnPrefix)}client/${t}$`),
    new RegExp(`^${esc(arnPrefix)}topic/(\\$aws/things/)?${t}/\\*$`),
    new RegExp(`^${esc(arnPrefix)}topicfilter/(\\$aws/things/)?${t}/\\*$`),
  ];
  assert.ok(doc.Statement.length > 0);
  for (const st of doc.Statement) {
    assert.equal(st.Effect, 'Allow');
    for (const a of st.Action) {
      assert.ok(ALLOWED_ACTIONS.has(a), `action ${a} is not one of the four a device needs`);
      assert.notEqual(a, 'iot:*');
    }
    assert.ok(st.Resource.length > 0);
    for (const r of st.Resource) {
      assert.notEqual(r, '*');
      assert.ok(own.some((re) => re.test(r)), `resource ${r} is not scoped to ${thing}`);
      // Each action gets the resource kind it is evaluated against.
      if (st.Action.includes('iot:Connect')) assert.match(r, /:client\//);
      if (st.Action.includes('iot:Subscribe')) assert.match(r, /:topicfilter\//);
      if (st.Action.includes('iot:Publish')) assert.match(r, /:topic\//);
    }
  }
  // The device can do all four, and connecting requires the thing to be attached.
  const actions = new Set(doc.Statement.flatMap((s) => s.Action));
  assert.deepEqual([...actions].sort(), [...ALLOWED_ACTIONS].sort());
  const connect = doc.Statement.find((s) => s.Action.includes('iot:Connect'))!;
  assert.deepEqual(connect.Condition, { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
}

test('default policy: connect as the thing only, publish/subscribe/receive only under its own prefixes', () => {
  assertScoped(defaultPolicyDocument(), THING_NAME_VARIABLE, 'arn:aws:iot:*:*:');
  assertScoped(defaultPolicyDocument({ thingName: 'lab-b1', region: 'eu-west-1', account: '123456789012' }), 'lab-b1', 'arn:aws:iot:eu-west-1:123456789012:');
  const text = JSON.stringify(defaultPolicyDocument());
  assert.doesNotMatch(text, /"iot:\*"/);
  assert.doesNotMatch(text, /"Resource":\["\*"\]/);
});

test('the policy scope comes from the thing ARN (partition, region, account)', () => {
  assert.deepEqual(scopeFromArn('arn:aws-cn:iot:cn-north-1:123456789012:thing/x'), { partition: 'aws-cn', region: 'cn-north-1', account: '123456789012' });
  assert.deepEqual(scopeFromArn('not an arn'), {});
  assertScoped(defaultPolicyDocument(scopeFromArn('arn:aws:iot:us-east-1:210987654321:thing/x')), THING_NAME_VARIABLE, 'arn:aws:iot:us-east-1:210987654321:');
});

test('the JITP template names the thing after the certificate CN and carries the same policy', () => {
  const t = jitpTemplate({ thingType: 'devkit', thingAttributes: { lab: 'rack-1' } }) as any;
  assert.deepEqual(t.Resources.thing.Properties, { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' }, ThingTypeName: 'devkit', AttributePayload: { lab: 'rack-1' } });
  assert.deepEqual(t.Resources.certificate.Properties, { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' });
  const doc = JSON.parse(t.Resources.policy.Properties.PolicyDocument);
  assertScoped(doc, THING_NAME_VARIABLE, 'arn:aws:iot:*:*:');
  assert.deepEqual(doc, defaultPolicyDocument());
  assert.deepEqual((jitpTemplate({ policyName: 'shared' }) as any).Resources.policy.Properties, { PolicyName: 'shared' });
});
