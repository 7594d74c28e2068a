import { z } from '../../util/zod.js';
import { pathField, type SchemaContext } from './common.js';
import { topicPrefixProblem } from '../topic-prefix.js';

/** AWS IoT registration (optional). Credentials come from the standard AWS chain (profile, environment, SSO). */
export const awsSection = (ctx: SchemaContext) =>
  z.strictObject({
    enabled: z.boolean().optional(),
    /** Default: AWS_REGION / AWS_DEFAULT_REGION, then the profile's region. */
    region: z.string().optional(),
    /** Default: AWS_PROFILE, then the default profile. */
    profile: z.string().optional(),
    /** Policy attached to each device certificate (default keyprov-device, created least-privilege when missing). */
    policyName: z.string().optional(),
    /** A JSON policy document used instead of the default when keyprov creates the policy. */
    policyDocument: pathField(ctx).optional(),
    /**
     * Extra MQTT topic prefixes the default policy allows (publish, receive, subscribe below
     * each), for firmware that does not use `<thing>/...`. Each must contain `{{thing}}`,
     * which becomes the connecting thing's name, e.g. `dt/{{thing}}`.
     */
    topicPrefixes: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((p, c) => {
            const problem = topicPrefixProblem(p);
            if (problem) c.addIssue({ code: 'custom', message: `"${p}" ${problem}` });
          }),
      )
      .optional()
      .meta({ description: 'Extra topic prefixes for the default device policy; each contains {{thing}}, e.g. dt/{{thing}}' }),
    thingType: z.string().optional(),
    thingAttributes: z.record(z.string(), z.string()).optional(),
    /** Final status of a registered device certificate (default ACTIVE). */
    certificateStatus: z.enum(['ACTIVE', 'PENDING_ACTIVATION']).optional(),
    /** `default`: the CA is registered with a verification certificate; `sni-only`: without (multi-account), devices registered without CA. */
    mode: z.enum(['default', 'sni-only']).optional(),
    /** Attempts per AWS call, with exponential backoff, for throttling and transient errors (default 5). */
    maxAttempts: z.number().int().min(1).max(20).optional(),
    /** Just-in-time provisioning for `keyprov aws register-ca`. */
    jitp: z
      .strictObject({
        /** Provisioning template file (write one with `keyprov aws jitp-template --out FILE`). */
        template: pathField(ctx).optional(),
        /** IAM role AWS IoT assumes to provision (trusts iot.amazonaws.com). */
        roleArn: z.string().optional(),
      })
      .optional(),
    /** JITR: let certificates signed by the CA register themselves on first connect. */
    allowAutoRegistration: z.boolean().optional(),
  });
