// `--dry-run`: the `aws iot ...` commands equivalent to what keyprov would call, as a
// script a person can read or run. Nothing here talks to AWS.

export interface PlannedCall {
  /** SDK operation, e.g. `CreateThing`. */
  name: string;
  input: Record<string, unknown>;
  /** Capture an output field in a shell variable for later commands (`CERT_ARN=$(...)`). */
  capture?: { variable: string; query: string };
  /** A comment printed above the command. */
  note?: string;
}

/** AWS CLI option names that are not the plain kebab-case of the SDK member. */
const OPTION_NAMES: Record<string, string> = { verificationCertificate: 'verification-cert' };

export function kebab(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  // A placeholder such as "$CERT_ARN" stays expandable.
  if (/^\$[A-Z_]+$/.test(s)) return `"${s}"`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface CliOptions {
  region?: string;
  profile?: string;
}

/** `aws iot create-thing --thing-name lab-1 --region eu-west-1` for CreateThing({thingName: 'lab-1'}). */
export function cliCommand(name: string, input: Record<string, unknown>, opts: CliOptions = {}): string {
  const parts = ['aws', 'iot', kebab(name)];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const opt = OPTION_NAMES[key] ?? kebab(key);
    if (typeof value === 'boolean') parts.push(value ? `--${opt}` : `--no-${opt}`);
    else if (typeof value === 'object') parts.push(`--${opt}`, shellQuote(JSON.stringify(value)));
    else if (typeof value === 'string' && value.includes('-----BEGIN')) parts.push(`--${opt}`, '<PEM>');
    else parts.push(`--${opt}`, shellQuote(String(value)));
  }
  if (opts.region) parts.push('--region', shellQuote(opts.region));
  if (opts.profile) parts.push('--profile', shellQuote(opts.profile));
  return parts.join(' ');
}

/** The plan as shell lines: notes as comments, captured outputs as variables. */
export function formatPlan(plan: PlannedCall[], opts: CliOptions = {}): string {
  const lines: string[] = [];
  for (const c of plan) {
    if (c.note) lines.push(`# ${c.note}`);
    const cmd = cliCommand(c.name, c.input, opts);
    lines.push(c.capture ? `${c.capture.variable}=$(${cmd} --query ${c.capture.query} --output text)` : cmd);
  }
  return lines.join('\n') + '\n';
}
