// The AWS SDK is large (~hundreds of ms to import): it is loaded on first use, never at
// the top of a module, so `keyprov --help` and the non-AWS commands do not pay for it.
import type * as IotSdk from '@aws-sdk/client-iot';

export type Sdk = typeof IotSdk;

let loaded: Promise<Sdk> | undefined;

export function loadSdk(): Promise<Sdk> {
  // The SDK warns on every run under Node 20 that *future* SDK releases need Node 22. keyprov
  // supports Node 20 with the SDK version it pins, so the warning is noise for a CLI user.
  // Setting the variable to "false" brings it back.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  loaded ??= import('@aws-sdk/client-iot');
  return loaded;
}
