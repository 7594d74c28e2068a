// Tables of options -> expected argv, for every runner (pure: nothing is started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRunner, RUNNERS, type RunnerCommand } from '../../src/index.js';
import { RUNNER_NAMES } from '../../src/config/sections/flash.js';

const CFG = '/proj';
const SCRATCH = '/scratch';

interface Case {
  name: string;
  runner: string;
  command?: RunnerCommand;
  options?: Record<string, unknown>;
  probe?: string;
  port?: string;
  image?: string;
  /** Expected argv of each process, in order. */
  argv: string[][];
  /** Expected generated command files. */
  files?: Record<string, string>;
  env?: Record<string, string>;
}

const cases: Case[] = [
  // esptool
  { name: 'esptool defaults', runner: 'esptool', port: '/dev/ttyUSB0', image: 'build/app.bin', argv: [['esptool.py', '--chip', 'auto', '--port', '/dev/ttyUSB0', '--baud', '460800', '--before', 'default_reset', '--after', 'hard_reset', 'write_flash', '0x0', '/proj/build/app.bin']] },
  {
    name: 'esptool offsets, extra images, erase, no reset, flash settings',
    runner: 'esptool',
    port: '/dev/ttyUSB0',
    image: '/abs/app.bin',
    options: { chip: 'esp32', baud: 921600, offset: '0x10000', images: [{ offset: 0x1000, file: 'build/bootloader.bin' }, { offset: '0x8000', file: 'build/partitions.bin' }], erase: true, reset: false, flashMode: 'dio', flashFreq: '40m', flashSize: '4MB' },
    argv: [['esptool.py', '--chip', 'esp32', '--port', '/dev/ttyUSB0', '--baud', '921600', '--before', 'default_reset', '--after', 'no_reset', 'write_flash', '--erase-all', '--flash_mode', 'dio', '--flash_freq', '40m', '--flash_size', '4MB', '0x1000', '/proj/build/bootloader.bin', '0x8000', '/proj/build/partitions.bin', '0x10000', '/abs/app.bin']],
  },
  { name: 'esptool flash.options.port wins over serial.port', runner: 'esptool', port: '/dev/ttyUSB0', image: '/a.bin', options: { port: '/dev/ttyACM3', before: 'usb_reset', after: 'soft_reset' }, argv: [['esptool.py', '--chip', 'auto', '--port', '/dev/ttyACM3', '--baud', '460800', '--before', 'usb_reset', '--after', 'soft_reset', 'write_flash', '0x0', '/a.bin']] },
  { name: 'esptool erase', runner: 'esptool', command: 'erase', port: '/dev/ttyUSB0', argv: [['esptool.py', '--chip', 'auto', '--port', '/dev/ttyUSB0', '--baud', '460800', '--before', 'default_reset', '--after', 'no_reset', 'erase_flash']] },
  { name: 'esptool reset', runner: 'esptool', command: 'reset', port: '/dev/ttyUSB0', options: { executable: 'tools/esptool' }, argv: [['/proj/tools/esptool', '--chip', 'auto', '--port', '/dev/ttyUSB0', '--baud', '460800', '--before', 'default_reset', '--after', 'hard_reset', 'read_mac']] },
  // idf
  { name: 'idf flash', runner: 'idf', port: '/dev/ttyUSB1', argv: [['idf.py', '-p', '/dev/ttyUSB1', 'flash']] },
  { name: 'idf with project, build dir, baud', runner: 'idf', port: '/dev/ttyUSB1', options: { projectDir: 'fw', buildDir: 'fw/build-a', baud: 115200 }, argv: [['idf.py', '-C', '/proj/fw', '-B', '/proj/fw/build-a', '-p', '/dev/ttyUSB1', '-b', '115200', 'flash']] },
  { name: 'idf erase', runner: 'idf', command: 'erase', port: '/dev/ttyUSB1', argv: [['idf.py', '-p', '/dev/ttyUSB1', 'erase-flash']] },
  // openocd
  { name: 'openocd interface + target', runner: 'openocd', image: '/b/app.elf', options: { interface: 'interface/stlink.cfg', target: 'target/stm32f4x.cfg' }, argv: [['openocd', '-f', 'interface/stlink.cfg', '-f', 'target/stm32f4x.cfg', '-c', 'program {/b/app.elf} verify reset exit']] },
  {
    name: 'openocd board config, search dir, probe, speed, bin address, no verify',
    runner: 'openocd',
    image: '/b/my app.bin',
    probe: '066DFF555051',
    options: { boardConfig: 'board/st_nucleo_f4.cfg', searchDirs: ['openocd'], speed: 1800, commands: ['transport select hla_swd'], address: '0x08000000', verify: false },
    argv: [['openocd', '-s', '/proj/openocd', '-f', 'board/st_nucleo_f4.cfg', '-c', 'adapter serial 066DFF555051', '-c', 'adapter speed 1800', '-c', 'transport select hla_swd', '-c', 'program {/b/my app.bin} 0x8000000 reset exit']],
  },
  { name: 'openocd reset', runner: 'openocd', command: 'reset', options: { interface: 'interface/cmsis-dap.cfg', target: 'target/nrf52.cfg' }, argv: [['openocd', '-f', 'interface/cmsis-dap.cfg', '-f', 'target/nrf52.cfg', '-c', 'init', '-c', 'reset run', '-c', 'shutdown']] },
  // jlink
  {
    name: 'jlink hex',
    runner: 'jlink',
    image: '/b/app.hex',
    options: { device: 'NRF52840_XXAA' },
    argv: [['JLinkExe', '-NoGui', '1', '-ExitOnError', '1', '-CommandFile', '/scratch/flash.jlink']],
    files: { '/scratch/flash.jlink': 'device NRF52840_XXAA\nsi SWD\nspeed 4000\nconnect\nr\nh\nloadfile "/b/app.hex"\nr\ng\nexit\n' },
  },
  {
    name: 'jlink bin with address, erase, probe, JTAG, no reset',
    runner: 'jlink',
    image: '/b/app.bin',
    probe: '000683123456',
    options: { device: 'STM32F429ZI', interface: 'JTAG', speed: 'auto', address: '0x08000000', erase: true, reset: false },
    argv: [['JLinkExe', '-NoGui', '1', '-ExitOnError', '1', '-SelectEmuBySN', '000683123456', '-CommandFile', '/scratch/flash.jlink']],
    files: { '/scratch/flash.jlink': 'device STM32F429ZI\nsi JTAG\nspeed auto\nconnect\nr\nh\nerase\nloadfile "/b/app.bin" 0x8000000\nexit\n' },
  },
  { name: 'jlink reset', runner: 'jlink', command: 'reset', options: { device: 'NRF52840_XXAA' }, argv: [['JLinkExe', '-NoGui', '1', '-ExitOnError', '1', '-CommandFile', '/scratch/reset.jlink']], files: { '/scratch/reset.jlink': 'device NRF52840_XXAA\nsi SWD\nspeed 4000\nconnect\nr\ng\nexit\n' } },
  { name: 'jlink erase', runner: 'jlink', command: 'erase', options: { device: 'NRF52840_XXAA' }, argv: [['JLinkExe', '-NoGui', '1', '-ExitOnError', '1', '-CommandFile', '/scratch/erase.jlink']], files: { '/scratch/erase.jlink': 'device NRF52840_XXAA\nsi SWD\nspeed 4000\nconnect\nerase\nexit\n' } },
  // nrfjprog
  { name: 'nrfjprog defaults', runner: 'nrfjprog', image: '/b/app.hex', argv: [['nrfjprog', '--program', '/b/app.hex', '--sectorerase', '--verify', '--reset']] },
  { name: 'nrfjprog chip erase, family, serial, soft reset', runner: 'nrfjprog', image: '/b/app.hex', probe: '683123456', options: { erase: true, family: 'NRF52', softReset: true }, argv: [['nrfjprog', '--program', '/b/app.hex', '--chiperase', '--verify', '--debugreset', '-f', 'NRF52', '-s', '683123456']] },
  { name: 'nrfjprog no verify, no reset', runner: 'nrfjprog', image: '/b/app.hex', options: { verify: false, reset: false }, argv: [['nrfjprog', '--program', '/b/app.hex', '--sectorerase']] },
  { name: 'nrfjprog erase', runner: 'nrfjprog', command: 'erase', probe: '1', argv: [['nrfjprog', '--eraseall', '-s', '1']] },
  { name: 'nrfjprog reset', runner: 'nrfjprog', command: 'reset', options: { family: 'NRF91' }, argv: [['nrfjprog', '--reset', '-f', 'NRF91']] },
  // stm32cubeprogrammer
  { name: 'stm32 hex', runner: 'stm32cubeprogrammer', image: '/b/app.hex', argv: [['STM32_Programmer_CLI', '-c', 'port=SWD', '-w', '/b/app.hex', '-v', '-rst']] },
  { name: 'stm32 bin at default address', runner: 'stm32cubeprogrammer', image: '/b/app.bin', argv: [['STM32_Programmer_CLI', '-c', 'port=SWD', '-w', '/b/app.bin', '0x8000000', '-v', '-rst']] },
  {
    name: 'stm32 probe, freq, mode, erase, address',
    runner: 'stm32cubeprogrammer',
    image: '/b/app.bin',
    probe: '066DFF555051897267233656',
    options: { interface: 'JTAG', frequency: 8000, mode: 'UR', erase: true, address: '0x08020000', verify: false },
    argv: [['STM32_Programmer_CLI', '-c', 'port=JTAG', 'sn=066DFF555051897267233656', 'freq=8000', 'mode=UR', '-e', 'all', '-w', '/b/app.bin', '0x8020000', '-rst']],
  },
  { name: 'stm32 erase', runner: 'stm32cubeprogrammer', command: 'erase', argv: [['STM32_Programmer_CLI', '-c', 'port=SWD', '-e', 'all']] },
  { name: 'stm32 reset', runner: 'stm32cubeprogrammer', command: 'reset', probe: 'X1', argv: [['STM32_Programmer_CLI', '-c', 'port=SWD', 'sn=X1', '-rst']] },
  // pyocd
  { name: 'pyocd target', runner: 'pyocd', image: '/b/app.hex', options: { target: 'stm32f429zi' }, argv: [['pyocd', 'flash', '-t', 'stm32f429zi', '/b/app.hex']] },
  { name: 'pyocd probe, freq, erase, bin base, no reset', runner: 'pyocd', image: '/b/app.bin', probe: '0240000032044e45', options: { target: 'k64f', frequency: 4000000, erase: true, address: 0x4000, reset: false }, argv: [['pyocd', 'flash', '-t', 'k64f', '-u', '0240000032044e45', '-f', '4000000', '--erase', 'chip', '--base-address', '0x4000', '--no-reset', '/b/app.bin']] },
  { name: 'pyocd reset', runner: 'pyocd', command: 'reset', probe: 'U1', options: { target: 'k64f' }, argv: [['pyocd', 'reset', '-t', 'k64f', '-u', 'U1']] },
  { name: 'pyocd erase', runner: 'pyocd', command: 'erase', options: { target: 'k64f' }, argv: [['pyocd', 'erase', '-t', 'k64f', '--chip']] },
  // west
  { name: 'west defaults', runner: 'west', argv: [['west', 'flash', '--skip-rebuild']] },
  { name: 'west build dir, runner, probe, erase, extra args', runner: 'west', probe: '683123456', options: { buildDir: 'build/nrf', runner: 'nrfjprog', skipRebuild: false, erase: true, extraArgs: ['--softreset'] }, argv: [['west', 'flash', '--build-dir', '/proj/build/nrf', '--runner', 'nrfjprog', '--dev-id', '683123456', '--erase', '--', '--softreset']] },
  // make
  { name: 'make default target', runner: 'make', image: '/b/app.bin', port: '/dev/ttyUSB0', argv: [['make', 'flash']], env: { KEYPROV_IMAGE: '/b/app.bin', KEYPROV_PORT: '/dev/ttyUSB0', KEYPROV_BOARD: 'b1' } },
  { name: 'make dir, makefile, target, variables with placeholders', runner: 'make', image: '/b/app.bin', port: '/dev/ttyUSB0', options: { dir: 'fw', makefile: 'fw/Flash.mk', target: 'program', variables: { IMAGE: '{image}', PORT: '{port}', TAG: 'board-{board}' } }, argv: [['make', '-C', '/proj/fw', '-f', '/proj/fw/Flash.mk', 'program', 'IMAGE=/b/app.bin', 'PORT=/dev/ttyUSB0', 'TAG=board-b1']] },
  { name: 'make reset target', runner: 'make', command: 'reset', options: { resetTarget: 'reset' }, argv: [['make', 'reset']], env: { KEYPROV_BOARD: 'b1' } },
  { name: 'make erase target', runner: 'make', command: 'erase', options: { eraseTarget: 'erase', dir: 'fw' }, argv: [['make', '-C', '/proj/fw', 'erase']] },
  // custom
  { name: 'custom template', runner: 'custom', image: '/b/app.bin', port: '/dev/ttyUSB0', probe: 'P9', options: { argv: ['tools/flash.sh', '--port={port}', '--probe', '{probe}', '{image}', 'board:{board}'] }, argv: [['/proj/tools/flash.sh', '--port=/dev/ttyUSB0', '--probe', 'P9', '/b/app.bin', 'board:b1']], env: { KEYPROV_IMAGE: '/b/app.bin', KEYPROV_PORT: '/dev/ttyUSB0', KEYPROV_PROBE: 'P9', KEYPROV_BOARD: 'b1' } },
  { name: 'custom: a bare name stays a PATH lookup; reset template', runner: 'custom', command: 'reset', options: { argv: ['flasher', '{image}'], resetArgv: ['flasher', 'reset', '{board}'] }, argv: [['flasher', 'reset', 'b1']] },
  { name: 'custom erase template', runner: 'custom', command: 'erase', port: '/dev/ttyS1', options: { argv: ['flasher', '{image}'], eraseArgv: ['./erase', '{port}'] }, argv: [['/proj/erase', '/dev/ttyS1']] },
  // vboard
  { name: 'vboard flash then reset', runner: 'vboard', image: '/b/fw.img', options: { boardDir: 'boards/one' }, argv: [['vboard', 'flash', '--board', '/proj/boards/one', '/b/fw.img'], ['vboard', 'reset', '--board', '/proj/boards/one']] },
  { name: 'vboard erase first, no reset, own executable', runner: 'vboard', image: '/b/fw.img', options: { boardDir: '/abs/board', vboard: '../vb/vboard', erase: true, reset: false }, argv: [['/vb/vboard', 'erase', '--board', '/abs/board'], ['/vb/vboard', 'flash', '--board', '/abs/board', '/b/fw.img']] },
  { name: 'vboard reset', runner: 'vboard', command: 'reset', options: { boardDir: 'b' }, argv: [['vboard', 'reset', '--board', '/proj/b']] },
  { name: 'vboard erase', runner: 'vboard', command: 'erase', options: { boardDir: 'b' }, argv: [['vboard', 'erase', '--board', '/proj/b']] },
];

function plan(c: Pick<Case, 'runner' | 'command' | 'options' | 'probe' | 'port' | 'image'>) {
  return planRunner(c.command ?? 'flash', {
    board: { id: 'b1', flash: { runner: c.runner, probe: c.probe, options: c.options }, serial: { port: c.port } },
    configDir: CFG,
    image: c.image,
    scratchDir: SCRATCH,
  });
}

test('options -> argv, for every runner', () => {
  for (const c of cases) {
    const p = plan(c);
    assert.deepEqual(p.invocations.map((i) => i.argv), c.argv, c.name);
    if (c.files) {
      const files = Object.fromEntries(p.invocations.flatMap((i) => i.files ?? []).map((f) => [f.path, f.content]));
      assert.deepEqual(files, c.files, `${c.name}: command files`);
    }
    if (c.env) assert.deepEqual(p.invocations[0]!.env, c.env, `${c.name}: environment`);
  }
  // Every runner has at least one row, and every command a runner declares is covered.
  for (const name of RUNNER_NAMES) {
    for (const cmd of RUNNERS[name].caps.commands) {
      assert.ok(cases.some((c) => c.runner === name && (c.command ?? 'flash') === cmd), `no argv row for ${name} ${cmd}`);
    }
  }
});

test('the base refuses what a runner does not declare', () => {
  const refusals: [string, Parameters<typeof plan>[0], RegExp][] = [
    ['openocd cannot erase', { runner: 'openocd', command: 'erase', options: { interface: 'i.cfg' } }, /the openocd runner cannot erase/],
    ['idf cannot reset on its own', { runner: 'idf', command: 'reset', port: '/dev/x' }, /the idf runner cannot reset/],
    ['west cannot reset', { runner: 'west', command: 'reset' }, /the west runner cannot reset/],
    ['esptool has no probe selection', { runner: 'esptool', port: '/dev/x', probe: 'P1', image: '/a.bin' }, /cannot select a probe/],
    ['vboard has no probe selection', { runner: 'vboard', probe: 'P1', image: '/a', options: { boardDir: 'b' } }, /cannot select a probe/],
    ['esptool has no verify switch', { runner: 'esptool', port: '/dev/x', image: '/a.bin', options: { verify: true } }, /cannot turn verification on or off/],
    ['openocd does not erase while flashing', { runner: 'openocd', image: '/a.elf', options: { interface: 'i.cfg', erase: true } }, /cannot erase while flashing/],
    ['openocd has no serial port', { runner: 'openocd', image: '/a.elf', options: { interface: 'i.cfg', port: '/dev/x' } }, /cannot use a serial port/],
    ['custom without resetArgv', { runner: 'custom', command: 'reset', options: { argv: ['x'] } }, /custom runner has no reset command/],
    ['make without eraseTarget', { runner: 'make', command: 'erase' }, /make runner has no erase target/],
  ];
  for (const [name, c, re] of refusals) {
    assert.throws(() => plan(c), (e: any) => e.code === 'RUNNER_UNSUPPORTED' && e.exitCode === 2 && re.test(e.message), name);
  }
});

test('bad or missing options name the key and how to fix it', () => {
  const bad: [string, Parameters<typeof plan>[0], string, RegExp][] = [
    ['typo', { runner: 'esptool', port: '/d', image: '/a', options: { baudrate: 1 } }, 'RUNNER_OPTIONS_INVALID', /flash\.options\.baudrate: not an option of the esptool runner/],
    ['wrong type', { runner: 'nrfjprog', image: '/a', options: { family: 'NRF99' } }, 'RUNNER_OPTIONS_INVALID', /flash\.options\.family/],
    ['bad address', { runner: 'stm32cubeprogrammer', image: '/a.bin', options: { address: 'flash start' } }, 'RUNNER_OPTIONS_INVALID', /flash\.options\.address: expected an address/],
    ['no port', { runner: 'esptool', image: '/a' }, 'RUNNER_OPTION_MISSING', /serial port for esptool is not set/],
    ['port auto', { runner: 'esptool', port: 'auto', image: '/a' }, 'RUNNER_PORT_AUTO', /needs a concrete serial port/],
    ['no device', { runner: 'jlink', image: '/a.hex' }, 'RUNNER_OPTION_MISSING', /flash\.options\.device is not set/],
    ['no openocd configs', { runner: 'openocd', image: '/a.elf' }, 'RUNNER_OPTION_MISSING', /openocd needs its configs/],
    ['bin without address', { runner: 'openocd', image: '/a.bin', options: { interface: 'i.cfg' } }, 'RUNNER_OPTION_MISSING', /raw binary and flash\.options\.address is not set/],
    ['no boardDir', { runner: 'vboard', image: '/a' }, 'RUNNER_OPTION_MISSING', /flash\.options\.boardDir is not set/],
    ['no image', { runner: 'nrfjprog' }, 'IMAGE_NOT_SET', /no image to flash/],
    ['unknown placeholder', { runner: 'custom', image: '/a', options: { argv: ['f', '{file}'] } }, 'TEMPLATE_PLACEHOLDER_UNKNOWN', /uses \{file\}, which is not a placeholder/],
    ['placeholder without value', { runner: 'custom', image: '/a', options: { argv: ['f', '{port}'] } }, 'TEMPLATE_VALUE_MISSING', /uses \{port\} but no port is known/],
    ['no runner', { runner: undefined as unknown as string, image: '/a' }, 'RUNNER_NOT_SET', /flash\.runner is not set/],
  ];
  for (const [name, c, code, re] of bad) {
    assert.throws(() => plan(c), (e: any) => e.code === code && re.test(e.message) && typeof e.hint === 'string', name);
  }
});

test('board overrides: same runner merges options; a board with its own runner takes only its own options', async () => {
  const { resolveBoard } = await import('../../src/index.js');
  const config = {
    flash: { runner: 'openocd' as const, options: { interface: 'interface/stlink.cfg', target: 'target/stm32f4x.cfg' } },
    boards: [
      { id: 'a', flash: { probe: 'S1', options: { speed: 1000 } } },
      { id: 'b', flash: { runner: 'nrfjprog' as const, probe: 'S2', options: { family: 'NRF52' } } },
    ],
  };
  const a = planRunner('flash', { board: resolveBoard(config as any, 'a'), configDir: CFG, image: '/x.elf', scratchDir: SCRATCH });
  assert.deepEqual(a.invocations[0]!.argv, ['openocd', '-f', 'interface/stlink.cfg', '-f', 'target/stm32f4x.cfg', '-c', 'adapter serial S1', '-c', 'adapter speed 1000', '-c', 'program {/x.elf} verify reset exit']);
  const b = planRunner('flash', { board: resolveBoard(config as any, 'b'), configDir: CFG, image: '/x.hex', scratchDir: SCRATCH });
  assert.deepEqual(b.invocations[0]!.argv, ['nrfjprog', '--program', '/x.hex', '--sectorerase', '--verify', '--reset', '-f', 'NRF52', '-s', 'S2']);
});
