// Shared by the AWS tests: fake credentials and region (so the SDK never looks for real
// ones and never reaches the network), and a CA + device certificate made by openssl.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';

/** Credentials and region the SDK accepts without looking anywhere else; IMDS off. */
export const FAKE_AWS_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret',
  AWS_REGION: 'eu-west-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export function useFakeAwsEnv(): void {
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_DEFAULT_REGION']) delete process.env[k];
  Object.assign(process.env, FAKE_AWS_ENV);
}

export interface TestPki {
  caCert: string;
  caKey: string;
  deviceCert: string;
  /** AWS certificate IDs computed by openssl (SHA-256 of the DER), not by keyprov. */
  caId: string;
  deviceId: string;
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function opensslCertificateId(file: string): string {
  const out = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
  return out.split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
}

/** A lab CA at <root>/.keyprov/ca.pem and a device certificate (CN = thingName) in the board's folder. */
export function makeTestPki(root: string, boardId = 'b1', cn = 'lab-b1'): TestPki {
  const state = path.join(root, '.keyprov');
  const boardDir = path.join(state, 'boards', boardId);
  mkdirSync(boardDir, { recursive: true });
  const caKey = path.join(state, 'ca.key');
  const caCert = path.join(state, 'ca.pem');
  const devKey = path.join(root, 'device.key');
  const csr = path.join(root, 'device.csr');
  const deviceCert = path.join(boardDir, 'device-cert.pem');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-subj', '/CN=keyprov test CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE']);
  openssl(['req', '-new', ...ec, '-keyout', devKey, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-sha256', '-out', deviceCert]);
  return { caCert, caKey, deviceCert, caId: opensslCertificateId(caCert), deviceId: opensslCertificateId(deviceCert) };
}

export function pem(file: string): string {
  return readFileSync(file, 'utf8');
}

/** [operation, input] for every call the mocked client received, in order. */
export function callLog(mock: { calls(): { args: unknown[] }[] }): [string, Record<string, unknown>][] {
  return mock.calls().map((c) => {
    const cmd = c.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    return [cmd.constructor.name.replace(/Command$/, ''), JSON.parse(JSON.stringify(cmd.input))];
  });
}
