// The record of every certificate a CA of this project issued.
import type { Db } from './db.js';

export interface IssuedCertificateRecord {
  caFingerprint: string;
  serial: string;
  subjectCn: string;
  publicKeyFingerprint: string;
  certificateFingerprint: string;
  notBefore: string;
  notAfter: string;
  file?: string;
  boardId?: string;
  issuedAt: string;
}

interface Row {
  ca_fingerprint: string;
  serial: string;
  subject_cn: string;
  public_key_fingerprint: string;
  certificate_fingerprint: string;
  not_before: string;
  not_after: string;
  file: string | null;
  board_id: string | null;
  issued_at: string;
}

const fromRow = (r: Row): IssuedCertificateRecord => ({
  caFingerprint: r.ca_fingerprint,
  serial: r.serial,
  subjectCn: r.subject_cn,
  publicKeyFingerprint: r.public_key_fingerprint,
  certificateFingerprint: r.certificate_fingerprint,
  notBefore: r.not_before,
  notAfter: r.not_after,
  file: r.file ?? undefined,
  boardId: r.board_id ?? undefined,
  issuedAt: r.issued_at,
});

/** Prepared statements over one open store. */
export class CertificateLedger {
  private readonly insert;
  private readonly byKey;
  private readonly bySerial;

  constructor(readonly db: Db) {
    this.insert = db.prepare(`INSERT INTO certificates
      (ca_fingerprint, serial, subject_cn, public_key_fingerprint, certificate_fingerprint, not_before, not_after, file, board_id, issued_at)
      VALUES (@caFingerprint, @serial, @subjectCn, @publicKeyFingerprint, @certificateFingerprint, @notBefore, @notAfter, @file, @boardId, @issuedAt)`);
    this.byKey = db.prepare('SELECT * FROM certificates WHERE ca_fingerprint = ? AND public_key_fingerprint = ? ORDER BY id');
    this.bySerial = db.prepare('SELECT 1 FROM certificates WHERE ca_fingerprint = ? AND serial = ?');
  }

  record(r: IssuedCertificateRecord): void {
    this.insert.run({ ...r, file: r.file ?? null, boardId: r.boardId ?? null });
  }

  forPublicKey(caFingerprint: string, publicKeyFingerprint: string): IssuedCertificateRecord[] {
    return (this.byKey.all(caFingerprint, publicKeyFingerprint) as Row[]).map(fromRow);
  }

  serialTaken(caFingerprint: string, serial: string): boolean {
    return this.bySerial.get(caFingerprint, serial) !== undefined;
  }
}
