// Done-when: both generated headers compile under strict gcc (c99 and c11) and every macro
// prints back exactly the bytes that went in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { compileAndRun, DUMP_PRELUDE, STANDARDS, hex } from './c-harness.js';
import { makeCert, fingerprint, openssl } from './pki-fixtures.js';

const PROGRAM = `${DUMP_PRELUDE}
#include "aws_clientcredential.h"
#include "aws_clientcredential_keys.h"

int main(void)
{
    DUMP(clientcredentialMQTT_BROKER_ENDPOINT);
    DUMP(clientcredentialIOT_THING_NAME);
    DUMP(clientcredentialWIFI_SSID);
    DUMP(clientcredentialWIFI_PASSWORD);
    printf("clientcredentialMQTT_BROKER_PORT=%ld\\n", (long)clientcredentialMQTT_BROKER_PORT);
    printf("clientcredentialGREENGRASS_DISCOVERY_PORT=%ld\\n", (long)clientcredentialGREENGRASS_DISCOVERY_PORT);
    printf("clientcredentialWIFI_SECURITY=%s\\n", STR(clientcredentialWIFI_SECURITY));
    DUMP(keyCLIENT_CERTIFICATE_PEM);
    DUMP(keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM);
    DUMP(keyCLIENT_PRIVATE_KEY_PEM);
    return 0;
}
`;

// Written independently of src/render: what the firmware must receive for a PEM file.
const asFirmwareSees = (pem: string) => {
  const lf = pem.split('\r\n').join('\n');
  return lf.endsWith('\n') ? lf : lf + '\n';
};

const SSID = 'Lab "5G" \\ net ??= ??/ ??\' \t Café ☕ 😀';
const PASSWORD = '\\"?\'??!??-??<??>\x01\x7f 0x41\\x41 ñ';

function yamlString(s: string): string {
  return JSON.stringify(s); // JSON strings are YAML double-quoted scalars
}

test('generated headers compile under strict c99/c11 and give back the inputs byte for byte', async (t) => {
  const dir = tmpDir(t);
  // Device certificate with CRLF line ends, and (second run) without a final newline.
  const dev = makeCert(dir, 'dev');
  const crlf = dev.replace(/\n/g, '\r\n');
  writeFileSync(path.join(dir, 'dev-crlf.pem'), crlf);
  writeFileSync(path.join(dir, 'dev-nonl.pem'), dev.replace(/\n$/, ''));
  const ca = makeCert(dir, 'ca', { rsaBits: 4096, cn: 'Lab CA' });
  writeFileSync(
    path.join(dir, 'keyprov.config.yaml'),
    [
      'credentials:',
      '  endpoint: a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com',
      '  thingName: "lab-{{id}}"',
      '  mqttPort: 443',
      '  wifi:',
      `    ssid: ${yamlString(SSID)}`,
      `    password: ${yamlString(PASSWORD)}`,
      '    security: eWiFiSecurityWPA3',
      'boards:',
      '  - id: b7',
      '',
    ].join('\n'),
  );

  for (const certFile of ['dev-crlf.pem', 'dev-nonl.pem']) {
    const r = await runCli(['render', '--certificate', certFile, '--ca-certificate', 'ca.pem', '--out-dir', 'gen'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const std of STANDARDS) {
      const v = compileAndRun(dir, PROGRAM, std, [path.join(dir, 'gen')]);
      assert.equal(v.get('clientcredentialMQTT_BROKER_ENDPOINT'), hex('a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com'));
      assert.equal(v.get('clientcredentialIOT_THING_NAME'), hex('lab-b7'));
      assert.equal(v.get('clientcredentialWIFI_SSID'), hex(SSID), `${std}: SSID`);
      assert.equal(v.get('clientcredentialWIFI_PASSWORD'), hex(PASSWORD), `${std}: password`);
      assert.equal(v.get('clientcredentialMQTT_BROKER_PORT'), '443');
      assert.equal(v.get('clientcredentialGREENGRASS_DISCOVERY_PORT'), '8443');
      assert.equal(v.get('clientcredentialWIFI_SECURITY'), 'eWiFiSecurityWPA3');
      assert.equal(v.get('keyCLIENT_CERTIFICATE_PEM'), hex(asFirmwareSees(certFile === 'dev-crlf.pem' ? crlf : dev.replace(/\n$/, ''))), `${std}: ${certFile}`);
      assert.equal(v.get('keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM'), hex(asFirmwareSees(ca)), `${std}: RSA-4096 CA`);
      assert.equal(v.get('keyCLIENT_PRIVATE_KEY_PEM'), 'NULL', 'the private key stays on the board');
      // openssl reads the compiled bytes as the same certificate.
      writeFileSync(path.join(dir, 'back.pem'), Buffer.from(v.get('keyCLIENT_CERTIFICATE_PEM')!, 'hex'));
      assert.equal(fingerprint(dir, 'back.pem'), fingerprint(dir, 'dev.pem'));
      writeFileSync(path.join(dir, 'back-ca.pem'), Buffer.from(v.get('keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM')!, 'hex'));
      assert.match(openssl(dir, 'x509', '-in', 'back-ca.pem', '-noout', '-text'), /Public-Key: \(4096 bit\)/);
    }
  }
});

test('without the CA the JITR macro is NULL; --import-private-key puts the key in, warns, and writes 0600', async (t) => {
  const dir = tmpDir(t);
  makeCert(dir, 'dev');
  const r = await runCli(['render', '--certificate', 'dev.pem', '--out-dir', 'gen'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  let v = compileAndRun(dir, PROGRAM, '-std=c99', [path.join(dir, 'gen')]);
  assert.equal(v.get('keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM'), 'NULL');
  assert.equal(v.get('keyCLIENT_PRIVATE_KEY_PEM'), 'NULL');

  const k = await runCli(['render', '--certificate', 'dev.pem', '--out-dir', 'gen', '--import-private-key', 'dev.key'], { cwd: dir });
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stderr, /warning: IMPORTING A PRIVATE KEY .*DESTROY the key pair generated on the board/);
  v = compileAndRun(dir, PROGRAM, '-std=c11', [path.join(dir, 'gen')]);
  const { readFileSync, statSync } = await import('node:fs');
  assert.equal(v.get('keyCLIENT_PRIVATE_KEY_PEM'), hex(asFirmwareSees(readFileSync(path.join(dir, 'dev.key'), 'utf8'))));
  assert.equal(statSync(path.join(dir, 'gen', 'aws_clientcredential_keys.h')).mode & 0o777, 0o600);
});
