import { z } from 'zod';
import { type SchemaContext } from './common.js';

/** AWS IoT registration (optional). */
export const awsSection = (_ctx: SchemaContext) =>
  z.strictObject({
    enabled: z.boolean().optional(),
    region: z.string().optional(),
    profile: z.string().optional(),
    policyName: z.string().optional(),
    thingType: z.string().optional(),
    thingAttributes: z.record(z.string(), z.string()).optional(),
    certificateStatus: z.enum(['ACTIVE', 'PENDING_ACTIVATION']).optional(),
  });
