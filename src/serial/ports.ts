// Finding and opening the board's console port. `SerialPort.list()` spawns udevadm on
// Linux and fails where it is missing, so listing never throws: it returns what it could.
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { KeyprovError, UsageError } from '../errors.js';
import { portHolders } from './port-holders.js';
import type { SerialPort as SerialPortType } from 'serialport';

export interface PortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** /dev/serial/by-id link pointing at this port, when there is one. */
  byId?: string;
}

export interface PortListing {
  ports: PortInfo[];
  /** Why `SerialPort.list()` could not enumerate (e.g. udevadm missing); the by-id links are still listed. */
  listError?: string;
}

export interface PortMatch {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

const BY_ID_DIR = '/dev/serial/by-id';

async function byIdLinks(dir = BY_ID_DIR): Promise<Map<string, string>> {
  const links = new Map<string, string>(); // real path -> link
  try {
    for (const name of await fs.readdir(dir)) {
      const link = path.join(dir, name);
      try {
        links.set(await fs.realpath(link), link);
      } catch {
        /* dangling link */
      }
    }
  } catch {
    /* no USB serial devices, or not Linux */
  }
  return links;
}

/** Every serial port the system knows about; never throws. */
export async function listPorts(): Promise<PortListing> {
  const links = await byIdLinks();
  let listError: string | undefined;
  let found: PortInfo[] = [];
  try {
    const { SerialPort } = await import('serialport');
    found = (await SerialPort.list()).map((p) => ({
      path: p.path,
      manufacturer: p.manufacturer,
      serialNumber: p.serialNumber,
      vendorId: p.vendorId?.toLowerCase(),
      productId: p.productId?.toLowerCase(),
    }));
  } catch (e) {
    listError = (e as Error).message;
  }
  const known = new Set(found.map((p) => p.path));
  for (const [real] of links) if (!known.has(real)) found.push({ path: real });
  for (const p of found) p.byId = links.get(p.path);
  return { ports: found, listError };
}

export function describePorts(listing: PortListing): string {
  const rows = listing.ports.map((p) => {
    const id = p.vendorId ? ` [${p.vendorId}:${p.productId ?? '?'}${p.serialNumber ? ` serial ${p.serialNumber}` : ''}]` : '';
    return `${p.byId ?? p.path}${p.byId ? ` -> ${p.path}` : ''}${p.manufacturer ? ` (${p.manufacturer})` : ''}${id}`;
  });
  const list = rows.length ? rows.join('; ') : 'none found';
  return listing.listError ? `${list} (port enumeration failed: ${listing.listError})` : list;
}

const hexId = (s: string | undefined) => s?.toLowerCase().replace(/^0x/, '');

/**
 * `--port auto`: the only USB serial device, or the only one matching the configured
 * vendorId/productId/serialNumber. Refuses to guess when several match.
 */
export async function resolveAutoPort(match: PortMatch = {}, listing?: PortListing): Promise<string> {
  const l = listing ?? (await listPorts());
  const usb = l.ports.filter((p) => p.vendorId || p.byId);
  const want = { vendorId: hexId(match.vendorId), productId: hexId(match.productId), serialNumber: match.serialNumber };
  const filtered = usb.filter(
    (p) =>
      (!want.vendorId || p.vendorId === want.vendorId) &&
      (!want.productId || p.productId === want.productId) &&
      (!want.serialNumber || p.serialNumber === want.serialNumber),
  );
  const criteria = Object.entries(want).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(', ');
  if (filtered.length === 1) return filtered[0]!.byId ?? filtered[0]!.path;
  if (filtered.length === 0) {
    throw new UsageError('PORT_AUTO_NONE', `--port auto found no USB serial device${criteria ? ` matching ${criteria}` : ''}; available: ${describePorts(l)}`, {
      hint: 'plug the board in, pass --port PATH (e.g. a /dev/serial/by-id/ link), or fix serial.vendorId/productId/serialNumber',
      details: { ports: l.ports, listError: l.listError },
    });
  }
  throw new UsageError('PORT_AUTO_AMBIGUOUS', `--port auto found ${filtered.length} USB serial devices${criteria ? ` matching ${criteria}` : ''} and will not guess: ${describePorts({ ports: filtered })}`, {
    hint: 'pass --port with one of them, or set serial.serialNumber (or vendorId/productId) for this board',
    details: { ports: filtered },
  });
}

export interface OpenPortOptions {
  path: string;
  baudRate: number;
}

/** Open a serial port (exclusive lock) with errors that say what to do. */
export async function openPort(opts: OpenPortOptions): Promise<SerialPortType> {
  const p = opts.path;
  try {
    await fs.stat(p);
  } catch {
    const listing = await listPorts();
    throw new UsageError('PORT_MISSING', `serial port ${p} does not exist; available ports: ${describePorts(listing)}`, {
      hint: 'plug the board in and check the cable, or pass --port with one of the available ports (or --port auto)',
      details: { port: p, ports: listing.ports, listError: listing.listError },
    });
  }
  try {
    await fs.access(p, fsc.R_OK | fsc.W_OK);
  } catch {
    throw permissionDenied(p);
  }
  const holders = await portHolders(p);
  if (holders.length) {
    const who = holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ');
    throw new KeyprovError('PORT_BUSY', `serial port ${p} is open in another program: ${who}; two readers split the console's bytes between them`, {
      hint: `close it first (quit the serial monitor, or \`kill ${holders[0]!.pid}\`), then run keyprov again`,
      details: { port: p, holders },
    });
  }
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: p, baudRate: opts.baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(mapOpenError(p, err)) : resolve())));
  return port;
}

function permissionDenied(p: string): KeyprovError {
  return new UsageError('PORT_PERMISSION', `no read/write permission on serial port ${p}`, {
    hint: 'add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again) or install a udev rule giving you access',
    details: { port: p },
  });
}

function mapOpenError(p: string, err: Error): KeyprovError {
  const m = err.message;
  if (/Cannot lock port|Resource temporarily unavailable|EBUSY|Device or resource busy/i.test(m)) {
    return new KeyprovError('PORT_BUSY', `serial port ${p} is busy: another program holds it (${m})`, {
      hint: 'close the other serial monitor (screen, minicom, idf.py monitor, another keyprov) and try again',
      details: { port: p },
      cause: err,
    });
  }
  if (/Permission denied|EACCES/i.test(m)) return permissionDenied(p);
  if (/No such file|ENOENT/i.test(m)) {
    return new UsageError('PORT_MISSING', `serial port ${p} disappeared while opening it (${m})`, { hint: 'check the cable and pass --port again', details: { port: p } });
  }
  return new KeyprovError('PORT_OPEN_FAILED', `cannot open serial port ${p}: ${m}`, { hint: 'check --port and --baud; run `keyprov doctor`', details: { port: p }, cause: err });
}
