// The fleet ledger: one row per board (where it stands, its key, its certificate) and an
// event log, in the project's SQLite store. Every change is one transaction that updates
// the row and appends its event, so a process killed at any point leaves rows that match
// their events. A row in `running` whose process is gone is resumed by the next run.
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';

/** running: a process holds it (owner_pid); how far it got is in the key and certificate columns. */
export const BOARD_STATUSES = ['running', 'done', 'failed'] as const;
export type BoardStatus = (typeof BOARD_STATUSES)[number];
export type BoardFlag = 'duplicate-key' | 'key-changed';

export interface LedgerRow {
  boardId: string;
  thingName?: string;
  status: BoardStatus;
  lastStep?: string;
  publicKeyFingerprint?: string;
  issuedKeyFingerprint?: string;
  certificateSerial?: string;
  certificateFingerprint?: string;
  flags: BoardFlag[];
  error?: string;
  attempts: number;
  ownerPid?: number;
  ownerHost?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

export interface LedgerEvent {
  id: number;
  at: string;
  boardId: string;
  pid: number;
  kind: string;
  step?: string;
  detail?: string;
}

interface Row {
  board_id: string;
  thing_name: string | null;
  status: BoardStatus;
  last_step: string | null;
  public_key_fingerprint: string | null;
  issued_key_fingerprint: string | null;
  certificate_serial: string | null;
  certificate_fingerprint: string | null;
  flags: string;
  error: string | null;
  attempts: number;
  owner_pid: number | null;
  owner_host: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

const opt = <T>(v: T | null): T | undefined => v ?? undefined;

const fromRow = (r: Row): LedgerRow => ({
  boardId: r.board_id,
  thingName: opt(r.thing_name),
  status: r.status,
  lastStep: opt(r.last_step),
  publicKeyFingerprint: opt(r.public_key_fingerprint),
  issuedKeyFingerprint: opt(r.issued_key_fingerprint),
  certificateSerial: opt(r.certificate_serial),
  certificateFingerprint: opt(r.certificate_fingerprint),
  flags: r.flags.split(' ').filter(Boolean) as BoardFlag[],
  error: opt(r.error),
  attempts: r.attempts,
  ownerPid: opt(r.owner_pid),
  ownerHost: opt(r.owner_host),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: opt(r.finished_at),
});

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type ClaimResult =
  | { outcome: 'claimed'; row: LedgerRow; recoveredFrom?: number }
  | { outcome: 'done'; row: LedgerRow }
  | { outcome: 'busy'; row: LedgerRow };

export class FleetLedger {
  readonly pid: number;
  readonly host = hostname();

  constructor(
    readonly db: Db,
    opts: { pid?: number } = {},
  ) {
    this.pid = opts.pid ?? process.pid;
  }

  private now(): string {
    return new Date().toISOString();
  }

  private event(boardId: string, kind: string, step?: string, detail?: string): void {
    this.db.prepare('INSERT INTO fleet_events (at, board_id, pid, kind, step, detail) VALUES (?, ?, ?, ?, ?, ?)').run(this.now(), boardId, this.pid, kind, step ?? null, detail ?? null);
  }

  private update(boardId: string, set: Record<string, unknown>): void {
    const cols = Object.keys(set);
    this.db.prepare(`UPDATE fleet_boards SET ${cols.map((c) => `${c} = @${c}`).join(', ')}, updated_at = @updated_at WHERE board_id = @board_id`).run({ ...set, updated_at: this.now(), board_id: boardId });
  }

  get(boardId: string): LedgerRow | undefined {
    const r = this.db.prepare('SELECT * FROM fleet_boards WHERE board_id = ?').get(boardId) as Row | undefined;
    return r && fromRow(r);
  }

  all(): LedgerRow[] {
    return (this.db.prepare('SELECT * FROM fleet_boards ORDER BY board_id').all() as Row[]).map(fromRow);
  }

  events(boardId?: string): LedgerEvent[] {
    const rows = (boardId ? this.db.prepare('SELECT * FROM fleet_events WHERE board_id = ? ORDER BY id').all(boardId) : this.db.prepare('SELECT * FROM fleet_events ORDER BY id').all()) as {
      id: number;
      at: string;
      board_id: string;
      pid: number;
      kind: string;
      step: string | null;
      detail: string | null;
    }[];
    return rows.map((r) => ({ id: r.id, at: r.at, boardId: r.board_id, pid: r.pid, kind: r.kind, step: opt(r.step), detail: opt(r.detail) }));
  }

  /**
   * Take a board for this process. A board another live process is working on is `busy`;
   * a finished one is `done`; one left `running` by a dead process is taken over.
   */
  claim(boardId: string, thingName: string | undefined, opts: { again?: boolean } = {}): ClaimResult {
    return this.db
      .transaction((): ClaimResult => {
        const row = this.get(boardId);
        if (row?.status === 'done' && !opts.again) return { outcome: 'done', row };
        if (row?.status === 'running' && row.ownerPid !== undefined && row.ownerPid !== this.pid && (row.ownerHost !== this.host || processAlive(row.ownerPid))) {
          return { outcome: 'busy', row };
        }
        const recoveredFrom = row?.status === 'running' && row.ownerPid !== this.pid ? row.ownerPid : undefined;
        const now = this.now();
        if (!row) {
          this.db
            .prepare("INSERT INTO fleet_boards (board_id, thing_name, status, attempts, owner_pid, owner_host, created_at, updated_at) VALUES (?, ?, 'running', 1, ?, ?, ?, ?)")
            .run(boardId, thingName ?? null, this.pid, this.host, now, now);
        } else {
          this.update(boardId, { status: 'running', thing_name: thingName ?? row.thingName ?? null, attempts: row.attempts + 1, owner_pid: this.pid, owner_host: this.host, error: null, finished_at: null });
        }
        const why = recoveredFrom ? `taken over from pid ${recoveredFrom}, which ended without finishing` : row ? `attempt ${row.attempts + 1}, was ${row.status}${opts.again ? ' (--again: new key and certificate)' : ''}` : 'new board';
        this.event(boardId, 'claimed', undefined, why);
        return { outcome: 'claimed', row: this.get(boardId)!, recoveredFrom };
      })
      .immediate();
  }

  step(boardId: string, step: string, outcome: string, detail?: string): void {
    this.db.transaction(() => {
      if (outcome === 'ok') this.update(boardId, { last_step: step });
      this.event(boardId, 'step', step, detail ? `${outcome}: ${detail}` : outcome);
    })();
  }

  private addFlag(boardId: string, flag: BoardFlag, detail: string): void {
    const row = this.get(boardId);
    if (!row || row.flags.includes(flag)) return;
    this.update(boardId, { flags: [...row.flags, flag].join(' ') });
    this.event(boardId, 'flagged', undefined, `${flag}: ${detail}`);
  }

  /** Records the captured key. Returns the flags raised: the same key on another board, or a key that differs from the certified one. */
  captured(boardId: string, fingerprint: string): { flags: BoardFlag[]; otherBoards: string[] } {
    return this.db
      .transaction(() => {
        const row = this.get(boardId);
        const flags: BoardFlag[] = [];
        this.update(boardId, { public_key_fingerprint: fingerprint });
        this.event(boardId, 'captured', 'capture', fingerprint);
        if (row?.issuedKeyFingerprint && row.issuedKeyFingerprint !== fingerprint) {
          this.addFlag(boardId, 'key-changed', `captured ${fingerprint.slice(0, 16)}..., certificate ${row.certificateSerial ?? '?'} was issued for ${row.issuedKeyFingerprint.slice(0, 16)}...`);
          flags.push('key-changed');
        }
        const others = (this.db.prepare('SELECT board_id FROM fleet_boards WHERE public_key_fingerprint = ? AND board_id <> ?').all(fingerprint, boardId) as { board_id: string }[]).map((r) => r.board_id);
        if (others.length) {
          for (const b of [boardId, ...others]) this.addFlag(b, 'duplicate-key', `key ${fingerprint.slice(0, 16)}... seen on ${[boardId, ...others].sort().join(', ')}`);
          flags.push('duplicate-key');
        }
        return { flags, otherBoards: others };
      })
      .immediate();
  }

  certified(boardId: string, c: { serial: string; certificateFingerprint: string; keyFingerprint: string }): void {
    this.db
      .transaction(() => {
        const row = this.get(boardId);
        this.update(boardId, { public_key_fingerprint: c.keyFingerprint, issued_key_fingerprint: c.keyFingerprint, certificate_serial: c.serial, certificate_fingerprint: c.certificateFingerprint });
        this.event(boardId, 'certified', 'issue', `serial ${c.serial}`);
        // The new certificate is for the key the board holds now: that flag no longer applies (its event stays).
        if (row?.flags.includes('key-changed')) {
          this.update(boardId, { flags: row.flags.filter((f) => f !== 'key-changed').join(' ') });
          this.event(boardId, 'unflagged', 'issue', `key-changed: certificate ${c.serial} is for the current key`);
        }
      })
      .immediate();
  }

  /** The board now holds a key other than the one its certificate was issued for (seen by verify). */
  keyChanged(boardId: string, detail: string): void {
    this.db.transaction(() => this.addFlag(boardId, 'key-changed', detail)).immediate();
  }

  done(boardId: string): void {
    this.db
      .transaction(() => {
        const now = this.now();
        this.update(boardId, { status: 'done', owner_pid: null, owner_host: null, error: null, finished_at: now });
        this.event(boardId, 'done');
      })
      .immediate();
  }

  failed(boardId: string, error: string, step?: string): void {
    this.db
      .transaction(() => {
        this.update(boardId, { status: 'failed', owner_pid: null, owner_host: null, error });
        this.event(boardId, 'failed', step, error);
      })
      .immediate();
  }
}
