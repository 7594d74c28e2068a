// `{image}`, `{port}`, `{board}`, `{probe}` in argv templates (custom runner, make variables).
import { UsageError } from '../errors.js';

export const PLACEHOLDERS = ['image', 'port', 'board', 'probe'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const WHERE: Record<Placeholder, string> = {
  image: 'pass --image or set build.image',
  port: 'set serial.port or flash.options.port',
  board: 'pass --board',
  probe: 'set flash.probe',
};

/** Expand placeholders in each argument; `what` names the template in errors. Never goes through a shell. */
export function expandTemplate(template: readonly string[], values: Partial<Record<Placeholder, string>>, what: string): string[] {
  return template.map((arg) =>
    arg.replace(/\{([^{}]*)\}/g, (_m, name: string) => {
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        throw new UsageError('TEMPLATE_PLACEHOLDER_UNKNOWN', `${what} uses {${name}}, which is not a placeholder`, { hint: `use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` });
      }
      const v = values[name as Placeholder];
      if (v === undefined || v === '') throw new UsageError('TEMPLATE_VALUE_MISSING', `${what} uses {${name}} but no ${name} is known`, { hint: WHERE[name as Placeholder] });
      return v;
    }),
  );
}

/** KEYPROV_IMAGE, KEYPROV_PORT, KEYPROV_BOARD, KEYPROV_PROBE for tools that read the environment. */
export function placeholderEnv(values: Partial<Record<Placeholder, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of PLACEHOLDERS) if (values[p]) env[`KEYPROV_${p.toUpperCase()}`] = values[p]!;
  return env;
}
