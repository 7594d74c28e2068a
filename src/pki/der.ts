// The few DER encodings the certificate builder writes by hand. Everything that does not
// change between certificates is encoded once (with @peculiar/asn1-x509) and concatenated;
// only serial, validity, subject, public key and key identifier are written per certificate.

export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);

/** A positive INTEGER from big-endian magnitude bytes (adds a leading 0 when the top bit is set). */
export function derUnsignedInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
  const v = Buffer.from(bytes.subarray(i));
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function derTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-26T13:04:23.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261126130423Z
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** Name with a single commonName (UTF8String), as `openssl -subj /CN=...` writes it. */
const OID_CN = Buffer.from('0603550403', 'hex');
export function derCommonNameName(cn: string): Buffer {
  return seq(tlv(0x31, seq(OID_CN, tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

/** Reads one TLV at `offset`: tag, header length and content bounds. */
export function readTlv(buf: Uint8Array, offset = 0): { tag: number; start: number; end: number; next: number } {
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > buf.length) throw new RangeError('truncated DER');
  return { tag, start: p, end: p + len, next: p + len };
}

/** AlgorithmIdentifiers of the signatures keyprov writes (always SHA-256). */
export const SIG_ALG = {
  // ecdsa-with-SHA256 (1.2.840.10045.4.3.2), parameters absent (RFC 5758)
  ecdsaSha256: Buffer.from('300a06082a8648ce3d040302', 'hex'),
  // sha256WithRSAEncryption (1.2.840.113549.1.1.11), parameters NULL (RFC 4055)
  rsaSha256: Buffer.from('300d06092a864886f70d01010b0500', 'hex'),
} as const;

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/** The DER of the first PEM block with this label, or undefined. */
export function fromPem(text: string, label: string): Buffer | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  return m ? Buffer.from(m[1]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : undefined;
}
