// A small, independent evaluator of AWS IoT policies for tests (keyprov's own code is not
// used): resources are ARNs in which policy variables are substituted per connection,
// `*` matches any run of characters (including `/`) and `?` exactly one; an explicit
// Deny wins, and without an Allow the request is denied.
import type { PolicyDocument } from '../../src/aws/policy.js';

/** AWS IoT resource wildcard match: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

export interface Connection {
  thingName: string;
  attached: boolean;
}

function substitute(resource: string, c: Connection): string {
  return resource.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === 'iot:Connection.Thing.ThingName') return c.thingName;
    throw new Error(`the matcher does not know the policy variable ${whole}`);
  });
}

function conditionHolds(cond: PolicyDocument['Statement'][number]['Condition'], c: Connection): boolean {
  for (const [op, keys] of Object.entries(cond ?? {})) {
    for (const [key, want] of Object.entries(keys)) {
      if (op === 'Bool' && key === 'iot:Connection.Thing.IsAttached') {
        if (String(c.attached) !== want) return false;
      } else return false; // unknown condition: not satisfied
    }
  }
  return true;
}

export function allowed(doc: PolicyDocument, action: string, resourceArn: string, c: Connection): boolean {
  const applies = (s: PolicyDocument['Statement'][number]) =>
    s.Action.some((a) => wildcardMatch(a, action)) && s.Resource.some((r) => wildcardMatch(substitute(r, c), resourceArn)) && conditionHolds(s.Condition, c);
  if (doc.Statement.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return doc.Statement.some((s) => s.Effect === 'Allow' && applies(s));
}

