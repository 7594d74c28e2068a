// The rule for aws.topicPrefixes, shared by the config schema (checked when the config
// loads) and the AWS policy builder. Kept out of src/aws/ so that loading a config
// (every `keyprov render` before a build) loads no AWS code.

/** Where a topic prefix in the config names the board's thing. */
export const THING_PLACEHOLDER = '{{thing}}';

/**
 * Why a configured topic prefix cannot go into the least-privilege policy, or undefined
 * when it can. It must name the thing (so a board never reaches another board's topics)
 * and hold no MQTT or policy wildcard (the policy appends `/*` itself).
 */
export function topicPrefixProblem(prefix: string): string | undefined {
  if (!prefix.includes(THING_PLACEHOLDER)) return `must contain ${THING_PLACEHOLDER} so each board reaches only its own topics (use aws.policyDocument for shared topics)`;
  if (/[*?#+]/.test(prefix)) return 'must not contain the wildcards * ? # + (the policy allows everything below the prefix)';
  if (/\$\{/.test(prefix)) return `must not contain policy variables; write ${THING_PLACEHOLDER} for the thing name`;
  if (prefix.startsWith('/') || prefix.endsWith('/') || prefix.includes('//')) return 'must not start or end with "/" or contain an empty level';
  return undefined;
}
