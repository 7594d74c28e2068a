// Test helpers: keys generated at run time, printed the way the FreeRTOS firmware prints
// them (DESIGN.md), and cross-checks with the openssl command line.
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';

/** A fresh P-256 SubjectPublicKeyInfo (DER). */
export function newP256Spki(): Buffer {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return publicKey.export({ type: 'spki', format: 'der' }) as Buffer;
}

export interface FormatOptions {
  /** Log prefix of the header line (default `7 910 [IP-task] `). */
  prefix?: string;
  /** Line end (default CRLF). */
  eol?: string;
  /** Remove the trailing space of full rows (published copies). */
  trim?: boolean;
  /** Extra blank line after the header and each row (newer loggers). */
  blankLines?: boolean;
  /** Lines inserted after row i (another task's output). */
  interleave?: Record<number, string>;
  /** Print only the first n rows (a block cut short). */
  rows?: number;
}

/** Rows as prvWriteHexBytesToConsole prints them: 16 bytes, "%02x" and a space after every odd index. */
export function hexRows(der: Buffer): string[] {
  const rows: string[] = [];
  for (let off = 0; off < der.length; off += 16) {
    let row = '';
    const n = Math.min(16, der.length - off);
    for (let i = 0; i < n; i++) {
      row += der[off + i]!.toString(16).padStart(2, '0');
      if (i % 2 === 1) row += ' ';
    }
    rows.push(row);
  }
  return rows;
}

export function consoleBlock(der: Buffer, o: FormatOptions = {}): string {
  const eol = o.eol ?? '\r\n';
  const blank = o.blankLines ? eol : '';
  let out = `${o.prefix ?? '7 910 [IP-task] '}Device public key, ${der.length} bytes:${eol}${blank}`;
  const rows = hexRows(der).slice(0, o.rows ?? Infinity);
  rows.forEach((r, i) => {
    out += (o.trim ? r.trimEnd() : r) + eol + blank;
    if (o.interleave?.[i] !== undefined) out += o.interleave[i] + eol;
  });
  return out;
}

/** A plausible boot log around a block. */
export function bootLog(body: string, eol = '\r\n'): string {
  return [
    '0 0 [Tmr Svc] Starting WiFi...',
    '1 12 [IP-task] vDHCPProcess: offer 192.168.1.23ip',
    '2 313 [] Write certificate...',
    '3 320 [iot_thread] Creating a new key pair',
  ].join(eol) + eol + body + '4 1002 [iot_thread] Warning: the client certificate should be updated. Please see https://aws.amazon.com/freertos/getting-started/.' + eol;
}

/** openssl's own reading of DER public key bytes, re-encoded as DER (throws if openssl rejects them). */
export function opensslPubkeyDer(der: Buffer): Buffer {
  return execFileSync('openssl', ['pkey', '-pubin', '-inform', 'DER', '-outform', 'DER'], { input: der });
}

/** `openssl ec -inform der -pubin -pubout` as in the manual procedure. */
export function opensslPem(der: Buffer): string {
  return execFileSync('openssl', ['ec', '-inform', 'DER', '-pubin', '-pubout', '-outform', 'PEM'], { input: der, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
}
