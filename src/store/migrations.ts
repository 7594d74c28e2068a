// Schema changes of .keyprov/keyprov.db, applied in order. The database's `user_version`
// is the number of the last one applied. To change the schema, APPEND an entry with the
// next version (never edit or reorder one that has shipped): later areas add theirs here
// (AWS registrations, the fleet ledger).
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'issued certificates',
    sql: `
      CREATE TABLE certificates (
        id INTEGER PRIMARY KEY,
        ca_fingerprint TEXT NOT NULL,          -- SHA-256 of the CA certificate DER, hex
        serial TEXT NOT NULL,                  -- uppercase hex, as openssl prints it
        subject_cn TEXT NOT NULL,
        public_key_fingerprint TEXT NOT NULL,  -- SHA-256 of the device SubjectPublicKeyInfo DER, hex
        certificate_fingerprint TEXT NOT NULL, -- SHA-256 of the certificate DER, hex
        not_before TEXT NOT NULL,              -- ISO 8601
        not_after TEXT NOT NULL,
        file TEXT,                             -- where the PEM was written, if anywhere
        board_id TEXT,
        issued_at TEXT NOT NULL,
        UNIQUE (ca_fingerprint, serial)
      );
      CREATE INDEX certificates_by_key ON certificates (ca_fingerprint, public_key_fingerprint);
    `,
  },
];
