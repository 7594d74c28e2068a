// The least-privilege AWS IoT policy a provisioned board gets by default: connect only
// with its own thing name as MQTT client id, and publish, subscribe and receive only
// under its own topic prefixes (`<thing>/...` and `$aws/things/<thing>/...` for shadow
// and jobs), plus any `aws.topicPrefixes` that name the thing. Never `iot:*`, never a bare
// `*` resource.
import { UsageError } from '../errors.js';
import { THING_PLACEHOLDER, topicPrefixProblem } from '../config/topic-prefix.js';
export { THING_PLACEHOLDER, topicPrefixProblem };

/** AWS IoT policy variable: the thing attached to the connecting certificate. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

/** Default name of the shared policy (the policy variable scopes it to each thing). */
export const DEFAULT_POLICY_NAME = 'keyprov-device';

export interface PolicyScope {
  /** A literal thing name, or THING_NAME_VARIABLE (default) for one policy shared by every board. */
  thingName?: string;
  /** ARN parts; `*` when not known (the resource stays scoped by client id / topic). */
  partition?: string;
  region?: string;
  account?: string;
  /** Extra topic prefixes (`aws.topicPrefixes`), each containing THING_PLACEHOLDER; see topicPrefixProblem. */
  topicPrefixes?: string[];
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function defaultPolicyDocument(scope: PolicyScope = {}): PolicyDocument {
  const thing = scope.thingName ?? THING_NAME_VARIABLE;
  const arn = (kind: string, name: string) => `arn:${scope.partition ?? 'aws'}:iot:${scope.region ?? '*'}:${scope.account ?? '*'}:${kind}/${name}`;
  const extra = (scope.topicPrefixes ?? []).map((p) => {
    const problem = topicPrefixProblem(p);
    if (problem) throw new UsageError('AWS_TOPIC_PREFIX_INVALID', `aws.topicPrefixes: "${p}" ${problem}`, { hint: `write prefixes such as "dt/${THING_PLACEHOLDER}"` });
    return `${p.split(THING_PLACEHOLDER).join(thing)}/*`;
  });
  const prefixes = [...new Set([`${thing}/*`, `$aws/things/${thing}/*`, ...extra])];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [arn('client', thing)],
        // Only a certificate attached to that thing may use its client id.
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: prefixes.map((p) => arn('topic', p)) },
      { Effect: 'Allow', Action: ['iot:Subscribe'], Resource: prefixes.map((p) => arn('topicfilter', p)) },
    ],
  };
}

/** Region, account and partition from an ARN such as a thing's (`arn:aws:iot:eu-west-1:123456789012:thing/x`). */
export function scopeFromArn(arn: string | undefined): Omit<PolicyScope, 'thingName'> {
  const m = /^arn:([^:]+):iot:([^:]*):(\d{12}):/.exec(arn ?? '');
  return m ? { partition: m[1], region: m[2], account: m[3] } : {};
}

/** Compact JSON, the form AWS stores (and compares) a policy document in. */
export function policyJson(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}
