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
  {
    version: 2,
    name: 'AWS IoT registrations',
    sql: `
      CREATE TABLE aws_boards (
        board_id TEXT PRIMARY KEY,
        thing_name TEXT NOT NULL,
        thing_arn TEXT NOT NULL,
        certificate_arn TEXT NOT NULL,
        certificate_id TEXT NOT NULL,           -- AWS IoT certificate ID: SHA-256 of the DER, lowercase hex
        policy_name TEXT NOT NULL,
        endpoint TEXT,                          -- iot:Data-ATS endpoint, when keyprov looked it up
        region TEXT,
        registered_at TEXT NOT NULL,            -- ISO 8601; kept when a board is registered again
        updated_at TEXT NOT NULL
      );
      CREATE TABLE aws_cas (
        certificate_id TEXT PRIMARY KEY,        -- AWS IoT CA certificate ID (= SHA-256 of the CA DER)
        certificate_arn TEXT NOT NULL,
        fingerprint TEXT NOT NULL,              -- SHA-256 of the CA certificate DER, hex (as certificates.ca_fingerprint)
        status TEXT,                            -- ACTIVE, INACTIVE, ... as AWS last reported it
        mode TEXT NOT NULL,                     -- DEFAULT or SNI_ONLY
        auto_registration INTEGER NOT NULL,
        jitp INTEGER NOT NULL,
        region TEXT,
        registered_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      -- The account's data endpoint (one row): what rendering uses when credentials.endpoint is empty.
      CREATE TABLE aws_account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        endpoint TEXT NOT NULL,
        region TEXT,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'fleet ledger',
    sql: `
      -- One row per board of a rack (keyprov fleet): where it stands, its key and certificate.
      CREATE TABLE fleet_boards (
        board_id TEXT PRIMARY KEY,
        thing_name TEXT,
        status TEXT NOT NULL,                  -- running | done | failed (progress: the key and certificate columns)
        last_step TEXT,                        -- last step that finished ok
        public_key_fingerprint TEXT,           -- SHA-256 of the SubjectPublicKeyInfo DER, hex (as captured)
        issued_key_fingerprint TEXT,           -- the key the certificate was issued for
        certificate_serial TEXT,
        certificate_fingerprint TEXT,
        flags TEXT NOT NULL DEFAULT '',        -- space-separated: duplicate-key key-changed
        error TEXT,                            -- code: message of the last failure
        attempts INTEGER NOT NULL DEFAULT 0,
        owner_pid INTEGER,                     -- the process working on it while status = running
        owner_host TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE INDEX fleet_boards_by_key ON fleet_boards (public_key_fingerprint);
      CREATE TABLE fleet_events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        board_id TEXT NOT NULL,
        pid INTEGER NOT NULL,
        kind TEXT NOT NULL,                    -- claimed | step | captured | certified | done | failed | flagged | released
        step TEXT,
        detail TEXT
      );
      CREATE INDEX fleet_events_by_board ON fleet_events (board_id, id);
    `,
  },
];
