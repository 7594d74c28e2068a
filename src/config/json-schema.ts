// The JSON Schema for editors (schema/keyprov.config.schema.json), derived from the zod schema.
import { z } from '../util/zod.js';
import { configSchema } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema({ resolvePath: (p) => p }), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://keyprov.dev/schema/keyprov.config.schema.json', title: 'keyprov configuration (keyprov.config.yaml)' };
}
