// One IoT client per command, built with the SDK's standard credential chain
// (environment, shared profile, SSO, process, container/instance roles).
import type { IoTClient, IoTClientConfig } from '@aws-sdk/client-iot';
import { UsageError } from '../errors.js';
import type { KeyprovConfig } from '../config/schema.js';
import { loadSdk } from './sdk.js';

/** Retries (with exponential backoff and jitter) for throttling and transient errors. */
export const DEFAULT_MAX_ATTEMPTS = 5;

export interface AwsClientOptions {
  /** Wins over `aws.region` and the environment. */
  region?: string;
  /** Wins over `aws.profile`; otherwise AWS_PROFILE or the default profile. */
  profile?: string;
  config?: KeyprovConfig;
  env?: NodeJS.ProcessEnv;
  /** Extra client settings (tests pass a requestHandler that never touches the network). */
  clientConfig?: Partial<IoTClientConfig>;
}

/** Region from the option, the config, then AWS_REGION / AWS_DEFAULT_REGION; undefined lets the SDK read the profile's region. */
export function resolveRegion(opts: Pick<AwsClientOptions, 'region' | 'config' | 'env'>): string | undefined {
  const env = opts.env ?? process.env;
  const region = opts.region ?? opts.config?.aws?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError('AWS_REGION_INVALID', `"${region}" is not an AWS region name`, {
      hint: 'use a region code such as eu-west-1 or us-east-1 in aws.region, --region or AWS_REGION',
    });
  }
  return region;
}

export async function createIotClient(opts: AwsClientOptions = {}): Promise<IoTClient> {
  const { IoTClient } = await loadSdk();
  const region = resolveRegion(opts);
  const profile = opts.profile ?? opts.config?.aws?.profile;
  return new IoTClient({
    ...(region ? { region } : {}),
    ...(profile ? { profile } : {}),
    maxAttempts: opts.config?.aws?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    ...opts.clientConfig,
  });
}
