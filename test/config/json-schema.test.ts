import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('schema/keyprov.config.schema.json is up to date with the zod schema (run `npm run schema`)', () => {
  const committed = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema/keyprov.config.schema.json'), 'utf8'));
  assert.deepEqual(committed, configJsonSchema());
});

test('the JSON Schema forbids unknown keys and knows every section', () => {
  const s = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
  assert.equal(s.additionalProperties, false);
  for (const k of ['firmware', 'build', 'flash', 'serial', 'credentials', 'pki', 'aws', 'render', 'boards']) assert.ok(k in s.properties, k);
});
