// The commented keyprov.config.yaml that `keyprov init` writes.
import path from 'node:path';
import type { Discovery } from './discover.js';

const q = (s: string) => JSON.stringify(s);

export function starterConfig(configDir: string, d: Discovery): string {
  const rel = (p: string) => path.relative(configDir, p) || '.';
  const src = d.macroDefinitions[0];
  const headerDir = d.headerDirs[0];
  const build = d.buildSystems[0];
  const buildCommand =
    build === 'cmake' ? '["cmake", "--build", "build"]' : build === 'make' ? '["make"]' : build === 'idf' ? '["idf.py", "build"]' : build === 'west' ? '["west", "build"]' : undefined;
  const runner = build === 'idf' ? 'idf' : build === 'west' ? 'west' : undefined;
  const lines = [
    '# keyprov configuration: written by `keyprov init`; edit freely.',
    '# Relative paths resolve against this file\'s folder. `${env:NAME}` reads an environment variable.',
    '# The state folder .keyprov/ beside this file holds CA keys and per-board state: keep it out of git.',
    '# yaml-language-server: $schema=node_modules/keyprov/schema/keyprov.config.schema.json',
    '',
    'firmware:',
    `  root: ${q(rel(d.root))}`,
    src ? `  # found: ${rel(src.file)}:${src.line} defines ${src.macro} ${src.value}` : '  # no definition of the keygen macro was found; set provisioningSource by hand',
    src ? `  provisioningSource: ${q(rel(src.file))}` : '  # provisioningSource: "path/to/aws_dev_mode_key_provisioning.c"',
    ...(d.macroDefinitions.length > 1 ? [`  # also defined in: ${d.macroDefinitions.slice(1).map((m) => `${rel(m.file)}:${m.line}`).join(', ')}`] : []),
    headerDir ? `  headerDir: ${q(rel(headerDir))}` : '  # headerDir: "path/to/folder/with/aws_clientcredential.h"',
    '',
    'build:',
    buildCommand ? `  command: ${buildCommand}   # detected: ${build}` : '  # command: ["make"]   # no build system detected',
    '  # image: "build/firmware.bin"   # what the flasher writes',
    '',
    'flash:',
    runner ? `  runner: ${runner}` : '  # runner: esptool | idf | openocd | jlink | nrfjprog | stm32cubeprogrammer | pyocd | west | make | custom | vboard',
    '',
    'serial:',
    '  # port: /dev/ttyUSB0   # or a /dev/serial/by-id/... link, or auto',
    '  baud: 115200',
    '',
    'credentials:',
    '  endpoint: ""            # AWS IoT data endpoint (filled by `keyprov aws register` when empty)',
    '  thingName: "my-thing"',
    '  mqttPort: 8883',
    '  # wifi:',
    '  #   ssid: "lab"',
    '  #   password: "${env:WIFI_PASSWORD}"',
    '  #   security: eWiFiSecurityWPA2',
    '',
    'pki:',
    '  days: 500',
    '',
  ];
  return lines.join('\n');
}
