// A just-in-time provisioning template: when a certificate signed by the registered CA
// first connects, AWS IoT creates a thing named after the certificate's CN, activates the
// certificate and attaches the same least-privilege policy `keyprov aws register` uses.
import { defaultPolicyDocument, policyJson, type PolicyScope } from './policy.js';

export interface JitpTemplateOptions {
  thingType?: string;
  thingAttributes?: Record<string, string>;
  /** Attach this existing policy by name instead of the inline default document. */
  policyName?: string;
  /** An inline policy document (JSON) instead of the default. */
  policyDocument?: string;
  /** Region/account for the policy's ARNs (`*` when not given). */
  scope?: Omit<PolicyScope, 'thingName'>;
}

export function jitpTemplate(o: JitpTemplateOptions = {}): Record<string, unknown> {
  const thingProps: Record<string, unknown> = { ThingName: { Ref: 'AWS::IoT::Certificate::CommonName' } };
  if (o.thingType) thingProps.ThingTypeName = o.thingType;
  if (o.thingAttributes && Object.keys(o.thingAttributes).length) thingProps.AttributePayload = o.thingAttributes;
  const policyProps = o.policyName
    ? { PolicyName: o.policyName }
    : { PolicyDocument: o.policyDocument ?? policyJson(defaultPolicyDocument({ ...o.scope })) };
  return {
    Parameters: {
      'AWS::IoT::Certificate::CommonName': { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: { Type: 'AWS::IoT::Thing', Properties: thingProps },
      certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
      policy: { Type: 'AWS::IoT::Policy', Properties: policyProps },
    },
  };
}
