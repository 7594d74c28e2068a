// The AWS SDK is large (~hundreds of ms to import): it is loaded on first use, never at
// the top of a module, so `keyprov --help` and the non-AWS commands do not pay for it.
import type * as IotSdk from '@aws-sdk/client-iot';

export type Sdk = typeof IotSdk;

let loaded: Promise<Sdk> | undefined;

export function loadSdk(): Promise<Sdk> {
  loaded ??= import('@aws-sdk/client-iot');
  return loaded;
}
