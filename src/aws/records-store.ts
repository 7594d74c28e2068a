// AwsRecords in the state store (.keyprov/keyprov.db, migration 2). SQLite serializes
// writers across processes (WAL + busy timeout), so boards registered in parallel, even
// by separate keyprov processes, never lose each other's rows.
//
// The account's data endpoint is also mirrored into `.keyprov/aws-endpoint` (one line):
// `keyprov render` runs before every build and reads that small file instead of loading
// SQLite (see docs/render.md).
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Db } from '../store/db.js';
import { openStore, storePath } from '../store/db.js';
import { awsEndpointPath } from '../project.js';
import type { Logger } from '../log.js';
import { writeIfChanged } from '../util/fs-atomic.js';
import { UsageError } from '../errors.js';
import { awsRecordsPath, readAwsRecordsFile, type AwsRecords, type BoardAwsRecord, type CaAwsRecord } from './records.js';

export { awsEndpointPath };

interface BoardRow {
  thing_name: string;
  thing_arn: string;
  certificate_arn: string;
  certificate_id: string;
  policy_name: string;
  endpoint: string | null;
  region: string | null;
  registered_at: string;
  updated_at: string;
}

interface CaRow {
  certificate_id: string;
  certificate_arn: string;
  status: string | null;
  mode: 'DEFAULT' | 'SNI_ONLY';
  auto_registration: number;
  jitp: number;
  region: string | null;
  registered_at: string;
  updated_at: string;
}

export interface SqliteAwsRecordsOptions {
  /** Mirror the endpoint here whenever one is recorded (awsEndpointPath(root)). */
  endpointFile?: string;
}

/** The synchronous writes (better-sqlite3 is synchronous), shared by the records and the JSON import. */
function writers(db: Db) {
  const upsertBoard = db.prepare(`INSERT INTO aws_boards
      (board_id, thing_name, thing_arn, certificate_arn, certificate_id, policy_name, endpoint, region, registered_at, updated_at)
      VALUES (@boardId, @thingName, @thingArn, @certificateArn, @certificateId, @policyName, @endpoint, @region, @registeredAt, @updatedAt)
    ON CONFLICT (board_id) DO UPDATE SET thing_name = excluded.thing_name, thing_arn = excluded.thing_arn,
      certificate_arn = excluded.certificate_arn, certificate_id = excluded.certificate_id, policy_name = excluded.policy_name,
      endpoint = excluded.endpoint, region = excluded.region, updated_at = excluded.updated_at`);
  const upsertCa = db.prepare(`INSERT INTO aws_cas
      (certificate_id, certificate_arn, fingerprint, status, mode, auto_registration, jitp, region, registered_at, updated_at)
      VALUES (@certificateId, @certificateArn, @fingerprint, @status, @mode, @autoRegistration, @jitp, @region, @registeredAt, @updatedAt)
    ON CONFLICT (certificate_id) DO UPDATE SET certificate_arn = excluded.certificate_arn, status = excluded.status, mode = excluded.mode,
      auto_registration = excluded.auto_registration, jitp = excluded.jitp, region = excluded.region, updated_at = excluded.updated_at`);
  const upsertEndpoint = db.prepare(`INSERT INTO aws_account (id, endpoint, region, updated_at) VALUES (1, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint, region = excluded.region, updated_at = excluded.updated_at`);
  const putBoard = (boardId: string, r: BoardAwsRecord) => {
    upsertBoard.run({
      boardId,
      thingName: r.thingName,
      thingArn: r.thingArn,
      certificateArn: r.certificateArn,
      certificateId: r.certificateId,
      policyName: r.policyName,
      endpoint: r.endpoint ?? null,
      region: r.region ?? null,
      registeredAt: r.registeredAt ?? r.updatedAt,
      updatedAt: r.updatedAt,
    });
    if (r.endpoint) upsertEndpoint.run(r.endpoint, r.region ?? null, r.updatedAt);
  };
  const putCa = (r: CaAwsRecord) => {
    upsertCa.run({
      certificateId: r.certificateId,
      certificateArn: r.certificateArn,
      // The AWS IoT CA ID is the SHA-256 of the DER, the same digest the PKI ledger keys CAs by.
      fingerprint: r.certificateId.toLowerCase(),
      status: r.status ?? null,
      mode: r.mode,
      autoRegistration: r.autoRegistration ? 1 : 0,
      jitp: r.jitp ? 1 : 0,
      region: r.region ?? null,
      registeredAt: r.registeredAt ?? r.updatedAt,
      updatedAt: r.updatedAt,
    });
  };
  const putEndpoint = (endpoint: string, region: string | undefined, at: string) => upsertEndpoint.run(endpoint, region ?? null, at);
  return { putBoard: db.transaction(putBoard), putCa, putEndpoint };
}

export function sqliteAwsRecords(db: Db, opts: SqliteAwsRecordsOptions = {}): AwsRecords {
  const w = writers(db);
  const boardById = db.prepare('SELECT * FROM aws_boards WHERE board_id = ?');
  const deleteById = db.prepare('DELETE FROM aws_boards WHERE board_id = ?');
  const latestCa = db.prepare('SELECT * FROM aws_cas ORDER BY updated_at DESC, rowid DESC LIMIT 1');
  const endpoint = db.prepare('SELECT endpoint FROM aws_account WHERE id = 1');

  return {
    async getBoard(id) {
      const row = boardById.get(id) as BoardRow | undefined;
      if (!row) return undefined;
      return {
        thingName: row.thing_name,
        thingArn: row.thing_arn,
        certificateArn: row.certificate_arn,
        certificateId: row.certificate_id,
        policyName: row.policy_name,
        ...(row.endpoint ? { endpoint: row.endpoint } : {}),
        ...(row.region ? { region: row.region } : {}),
        registeredAt: row.registered_at,
        updatedAt: row.updated_at,
      };
    },
    async putBoard(id, record) {
      w.putBoard.immediate(id, record);
      if (record.endpoint && opts.endpointFile) await writeEndpointFile(opts.endpointFile, record.endpoint);
    },
    async deleteBoard(id) {
      deleteById.run(id);
    },
    async getCa() {
      const row = latestCa.get() as CaRow | undefined;
      if (!row) return undefined;
      return {
        certificateId: row.certificate_id,
        certificateArn: row.certificate_arn,
        mode: row.mode,
        autoRegistration: row.auto_registration === 1,
        jitp: row.jitp === 1,
        ...(row.status ? { status: row.status } : {}),
        ...(row.region ? { region: row.region } : {}),
        registeredAt: row.registered_at,
        updatedAt: row.updated_at,
      };
    },
    async putCa(record) {
      w.putCa(record);
    },
    async getEndpoint() {
      return (endpoint.get() as { endpoint: string } | undefined)?.endpoint;
    },
  };
}

async function writeEndpointFile(file: string, endpoint: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeIfChanged(file, endpoint + '\n');
}

export interface OpenedAwsRecords extends AwsRecords {
  readonly db: Db;
  close(): void;
}

/**
 * The project's AWS records: opens the state store, imports `.keyprov/aws-records.json`
 * once (when the store holds no AWS rows yet; the file is then renamed
 * `aws-records.json.imported`), and re-creates `.keyprov/aws-endpoint` if it went missing.
 */
export async function openAwsRecords(root: string, log?: Logger): Promise<OpenedAwsRecords> {
  const db = openStore(storePath(root));
  try {
    const endpointFile = awsEndpointPath(root);
    const records = sqliteAwsRecords(db, { endpointFile });
    await importJsonRecords(db, root, log);
    const recorded = await records.getEndpoint();
    if (recorded) await writeEndpointFile(endpointFile, recorded);
    return Object.assign(records, { db, close: () => db.close() });
  } catch (e) {
    db.close();
    throw e;
  }
}

const hasAwsRows = (db: Db) =>
  db.prepare('SELECT (SELECT count(*) FROM aws_boards) + (SELECT count(*) FROM aws_cas) + (SELECT count(*) FROM aws_account) AS n').get() as { n: number };

/** Returns the number of board records imported (0 when there was nothing to import). */
export async function importJsonRecords(db: Db, root: string, log?: Logger): Promise<number> {
  const file = awsRecordsPath(root);
  const data = await readAwsRecordsFile(file);
  if (!data) return 0;
  const rel = path.relative(root, file);
  const w = writers(db);
  const boards = Object.entries(data.boards ?? {});
  // Checked and written in one write transaction: two processes starting at once import once.
  const importAll = db.transaction(() => {
    if (hasAwsRows(db).n > 0) return false;
    for (const [id, r] of boards) w.putBoard(id, r);
    if (data.ca) w.putCa(data.ca);
    // The file's own endpoint is the last one looked up: it wins over the boards'.
    if (data.endpoint) w.putEndpoint(data.endpoint, boards.find(([, r]) => r.endpoint === data.endpoint)?.[1].region, new Date().toISOString());
    return true;
  });
  let imported: boolean;
  try {
    imported = importAll.immediate();
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') || e instanceof TypeError) {
      throw new UsageError('AWS_RECORDS_CORRUPT', `${rel} could not be imported into the state store: ${(e as Error).message}`, {
        hint: 'fix or delete the file; `keyprov aws register` records the boards again from AWS',
      });
    }
    throw e;
  }
  if (!imported) {
    log?.warn(`${rel} was not imported: the state store already holds AWS records (remove the file once you no longer need it)`);
    return 0;
  }
  await fs.rename(file, file + '.imported').catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  log?.info(
    `imported ${boards.length} board record(s)${data.ca ? ', the CA' : ''}${data.endpoint ? ' and the endpoint' : ''} from ${rel} into the state store; renamed it to ${path.basename(file)}.imported`,
  );
  return boards.length;
}
