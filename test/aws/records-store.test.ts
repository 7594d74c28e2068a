// AWS records in the state store: parallel writers lose nothing (two handles in one process,
// and two processes), the old JSON file is imported once, and the endpoint is mirrored for
// rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpDir } from '../helpers/tmp.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { memoryLogger } from '../../src/log.js';
import { openStore, storePath } from '../../src/store/db.js';
import { jsonFileAwsRecords, awsRecordsPath, type BoardAwsRecord } from '../../src/aws/records.js';
import { sqliteAwsRecords, openAwsRecords, awsEndpointPath } from '../../src/aws/records-store.js';

const ENDPOINT = 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com';
const board = (id: string, extra: Partial<BoardAwsRecord> = {}): BoardAwsRecord => ({
  thingName: `lab-${id}`,
  thingArn: `arn:aws:iot:eu-west-1:123456789012:thing/lab-${id}`,
  certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${id.padEnd(64, '0')}`,
  certificateId: id.padEnd(64, '0'),
  policyName: 'keyprov-device',
  region: 'eu-west-1',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
const boardIds = (root: string) => {
  const db = openStore(storePath(root));
  try {
    return (db.prepare('SELECT board_id FROM aws_boards ORDER BY board_id').all() as { board_id: string }[]).map((r) => r.board_id);
  } finally {
    db.close();
  }
};

test('store records: board, CA and endpoint round-trip; a second registration keeps registeredAt; delete', async (t) => {
  const root = tmpDir(t);
  const r = await openAwsRecords(root);
  t.after(() => r.close());
  assert.equal(await r.getBoard('b1'), undefined);
  assert.equal(await r.getEndpoint(), undefined);
  await r.putBoard('b1', board('b1', { endpoint: ENDPOINT }));
  assert.deepEqual(await r.getBoard('b1'), { ...board('b1', { endpoint: ENDPOINT }), registeredAt: '2026-01-01T00:00:00.000Z' });
  assert.equal(await r.getEndpoint(), ENDPOINT);
  assert.equal(readFileSync(awsEndpointPath(root), 'utf8'), `${ENDPOINT}\n`);

  await r.putBoard('b1', board('b1', { certificateId: 'f'.repeat(64), updatedAt: '2026-02-01T00:00:00.000Z' }));
  const again = await r.getBoard('b1');
  assert.equal(again?.certificateId, 'f'.repeat(64));
  assert.equal(again?.registeredAt, '2026-01-01T00:00:00.000Z', 'first registration kept');
  assert.equal(again?.updatedAt, '2026-02-01T00:00:00.000Z');
  assert.equal(await r.getEndpoint(), ENDPOINT, 'a registration without lookup keeps the account endpoint');

  await r.putCa({ certificateId: 'c'.repeat(64), certificateArn: 'arn:ca1', mode: 'DEFAULT', autoRegistration: true, jitp: false, status: 'ACTIVE', updatedAt: '2026-01-01T00:00:00.000Z' });
  await r.putCa({ certificateId: 'd'.repeat(64), certificateArn: 'arn:ca2', mode: 'SNI_ONLY', autoRegistration: false, jitp: true, updatedAt: '2026-03-01T00:00:00.000Z' });
  const ca = await r.getCa();
  assert.equal(ca?.certificateArn, 'arn:ca2', 'the CA registered last');
  assert.equal(ca?.jitp, true);
  assert.equal(ca?.autoRegistration, false);

  await r.deleteBoard('b1');
  assert.equal(await r.getBoard('b1'), undefined);
  assert.equal(await r.getEndpoint(), ENDPOINT, 'the endpoint belongs to the account, not the board');
});

test('two handles on one store, writing different boards interleaved: no lost rows', async (t) => {
  const root = tmpDir(t);
  const a = openStore(storePath(root));
  const b = openStore(storePath(root));
  t.after(() => (a.close(), b.close()));
  const ra = sqliteAwsRecords(a);
  const rb = sqliteAwsRecords(b);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) writes.push(ra.putBoard(`a${String(i).padStart(2, '0')}`, board(`a${i}`)), rb.putBoard(`b${String(i).padStart(2, '0')}`, board(`b${i}`)));
  await Promise.all(writes);
  const ids = boardIds(root);
  assert.equal(ids.length, 80);
  assert.equal(await rb.getBoard('a07').then((x) => x?.thingName), 'lab-a7', 'each handle sees the other\'s rows');
});

test('two processes registering different boards at once: no lost rows', async (t) => {
  const root = tmpDir(t);
  openStore(storePath(root)).close(); // migrated once, so both children race on writes only
  const lib = path.join(REPO_ROOT, 'dist', 'aws', 'records-store.js');
  assert.ok(existsSync(lib), 'run `npm run build` first');
  const child = (prefix: string) =>
    new Promise<void>((resolve, reject) => {
      const script = `
        const { openAwsRecords } = await import(${JSON.stringify(lib)});
        const r = await openAwsRecords(${JSON.stringify(root)});
        for (let i = 0; i < 50; i++) {
          const id = '${prefix}' + String(i).padStart(2, '0');
          await r.putBoard(id, { thingName: 'lab-' + id, thingArn: 'arn:' + id, certificateArn: 'arn:cert:' + id, certificateId: id,
            policyName: 'keyprov-device', endpoint: ${JSON.stringify(ENDPOINT)}, updatedAt: new Date().toISOString() });
        }
        r.close();`;
      const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child ${prefix} exited ${code}: ${err}`))));
    });
  await Promise.all([child('p'), child('q')]);
  const ids = boardIds(root);
  assert.equal(ids.length, 100);
  assert.equal(ids.filter((id) => id.startsWith('p')).length, 50);
  assert.equal(readFileSync(awsEndpointPath(root), 'utf8'), `${ENDPOINT}\n`);
});

test('the old .keyprov/aws-records.json is imported once, then renamed; not over existing rows', async (t) => {
  const root = tmpDir(t);
  const json = jsonFileAwsRecords(awsRecordsPath(root));
  await json.putBoard('b1', board('b1', { endpoint: ENDPOINT }));
  await json.putBoard('b2', board('b2'));
  await json.putCa({ certificateId: 'c'.repeat(64), certificateArn: 'arn:ca', mode: 'DEFAULT', autoRegistration: false, jitp: false, updatedAt: '2026-01-01T00:00:00.000Z' });

  const log = memoryLogger();
  const r = await openAwsRecords(root, log);
  assert.deepEqual(boardIds(root), ['b1', 'b2']);
  assert.equal((await r.getBoard('b2'))?.thingArn, board('b2').thingArn);
  assert.equal((await r.getCa())?.certificateArn, 'arn:ca');
  assert.equal(await r.getEndpoint(), ENDPOINT);
  assert.equal(readFileSync(awsEndpointPath(root), 'utf8'), `${ENDPOINT}\n`, 'the endpoint reaches rendering');
  assert.equal(existsSync(awsRecordsPath(root)), false);
  assert.ok(existsSync(awsRecordsPath(root) + '.imported'));
  assert.match(log.text(), /imported 2 board record\(s\), the CA and the endpoint from \.keyprov\/aws-records\.json into the state store; renamed it to aws-records\.json\.imported/);
  r.close();

  // A JSON file that reappears beside a store holding AWS rows is left alone, with a warning.
  writeFileSync(awsRecordsPath(root), JSON.stringify({ version: 1, boards: { b9: board('b9') } }));
  const log2 = memoryLogger();
  (await openAwsRecords(root, log2)).close();
  assert.deepEqual(boardIds(root), ['b1', 'b2']);
  assert.ok(existsSync(awsRecordsPath(root)));
  assert.match(log2.text(), /was not imported: the state store already holds AWS records/);

  // The endpoint file is re-created from the store when it went missing.
  rmSync(awsEndpointPath(root));
  (await openAwsRecords(root)).close();
  assert.equal(readFileSync(awsEndpointPath(root), 'utf8'), `${ENDPOINT}\n`);
});

test('an old JSON file with a board record missing fields is a clear error; nothing half-imported', async (t) => {
  const root = tmpDir(t);
  mkdirSync(path.dirname(awsRecordsPath(root)), { recursive: true });
  writeFileSync(awsRecordsPath(root), JSON.stringify({ version: 1, boards: { b1: board('b1'), b2: { thingName: 'lab-b2' } } }));
  await assert.rejects(openAwsRecords(root), (e: Error & { code?: string }) => e.code === 'AWS_RECORDS_CORRUPT' && /aws-records\.json could not be imported/.test(e.message));
  assert.deepEqual(boardIds(root), [], 'the import is one transaction');
  assert.ok(existsSync(awsRecordsPath(root)), 'the file is kept');
});
