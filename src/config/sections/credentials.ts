import { z } from '../../util/zod.js';
import { type SchemaContext } from './common.js';

import { WIFI_SECURITY } from '../../render/values.js';

export { WIFI_SECURITY };

/** Values rendered into aws_clientcredential.h. */
export const credentialsSection = (_ctx: SchemaContext) =>
  z.strictObject({
    /** MQTT broker endpoint (AWS IoT data endpoint or a local broker). */
    endpoint: z.string().optional(),
    /** Thing name; may be a template such as `lab-{{id}}` (board id). */
    thingName: z.string().min(1).optional(),
    mqttPort: z.number().int().min(1).max(65535).optional(),
    greengrassPort: z.number().int().min(1).max(65535).optional(),
    wifi: z
      .strictObject({
        ssid: z.string().optional(),
        password: z.string().optional(),
        security: z.enum(WIFI_SECURITY).optional(),
      })
      .optional(),
  });
