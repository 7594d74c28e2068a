// The commented keyprov.config.yaml that `keyprov init` writes.
import path from 'node:path';
import type { Discovery } from './discover.js';

const q = (s: string) => JSON.stringify(s);

export function starterConfig(configDir: string, d: Discovery): string {
  const rel = (p: string) => path.relative(configDir, p) || '.';
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
    ...provisioningSourceLines(d, rel),
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

/** The provisioningSource lines: the files `keyprov patch` needs (the switch and any alias forwarding to it), or why none was chosen. */
function provisioningSourceLines(d: Discovery, rel: (p: string) => string): string[] {
  const sw = d.switch;
  const at = (m: { file: string; line: number }) => `${rel(m.file)}:${m.line}`;
  if (!sw) {
    return [
      d.switchProblem ? `  # keyprov patch cannot choose the keygen switch: ${d.switchProblem.message.replaceAll(d.root + path.sep, '')}` : '  # no definition of the keygen macro was found; set provisioningSource by hand',
      ...(d.macroDefinitions.length ? [`  # active definitions: ${d.macroDefinitions.map((m) => `${at(m)} (${m.macro} ${m.value})`).join(', ')}`] : []),
      '  # provisioningSource: "path/to/aws_dev_mode_key_provisioning.c"   # the file(s) your build uses',
    ];
  }
  const files = d.provisioningSources.map((f) => q(rel(f)));
  const shown = new Set([sw, ...sw.aliases].map(at));
  const others = d.macroDefinitions.filter((m) => !shown.has(at(m)));
  return [
    `  # found: ${at(sw)} defines ${sw.macro} ${sw.value}`,
    ...sw.aliases.map((a) => `  #   ${at(a)} forwards ${a.macro} to it`),
    `  provisioningSource: ${files.length === 1 ? files[0] : `[${files.join(', ')}]`}`,
    ...(others.length ? [`  # also defined in: ${others.map(at).join(', ')}`] : []),
  ];
}
