// The fleet ledger: one row per board (where it stands, its key, its certificate) and an
// event log, in the project's SQLite store. Every change is one transaction that updates
// the row and appends its event, so a process killed at any point leaves rows that match
// their events. A row in `running` whose process is gone is resumed by the next run.
import { hostname } from 'node:os';
import type { Db } from '../store/db.js';
import { UsageError } from '../errors.js';

/** running: a process holds it (owner_pid); how far it got is in the key and certificate columns. */
export const BOARD_STATUSES = ['running', 'done', 'failed'] as const;
export type BoardStatus = (typeof BOARD_STATUSES)[number];
export const BOARD_FLAGS = ['duplicate-key', 'key-changed'] as const;
export type BoardFlag = (typeof BOARD_FLAGS)[number];

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

/** One `flagged` or `unflagged` event; its detail starts with the flag (`duplicate-key: ...`). */
export interface FlagEvent extends LedgerEvent {
  kind: 'flagged' | 'unflagged';
  flag: string;
}

export interface ClearFlagOptions {
  /** Why the flag no longer applies: kept in the event. Required. */
  reason: string;
  /** Who cleared it (user@host): kept in the event. */
  by: string;
  /** Clear even though the ledger still shows the problem (the key still on another board; key-changed). */
  force?: boolean;
  /** Check and say what would change; write nothing. */
  dryRun?: boolean;
}

export interface ClearedFlag {
  boardId: string;
  flag: BoardFlag;
  flagsBefore: BoardFlag[];
  flagsAfter: BoardFlag[];
  /** Boards whose key is still this board's key (only with --force for duplicate-key). */
  sharedWith: string[];
  forced: boolean;
  /** The `unflagged` event's detail. */
  detail: string;
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

  /** The flag history: every `flagged` and `unflagged` event, oldest first. */
  flagEvents(boardId?: string): FlagEvent[] {
    return this.events(boardId)
      .filter((e): e is LedgerEvent & { kind: FlagEvent['kind'] } => e.kind === 'flagged' || e.kind === 'unflagged')
      .map((e) => ({ ...e, flag: (e.detail ?? '').split(':')[0]! }));
  }

  /**
   * Clears a flag on boards after a person reviewed it: all boards or none, one `unflagged`
   * event each (step `review`, with the reason and who). Refuses (UsageError, nothing
   * changed) an unknown board, a flag the board does not have, and a flag the ledger
   * still shows to be true unless `force`: a duplicate-key board whose key is still
   * another board's key, and key-changed (the next `fleet provision` clears that one by
   * giving the board a certificate for the key it holds).
   */
  clearFlag(boardIds: string[], flag: BoardFlag, opts: ClearFlagOptions): ClearedFlag[] {
    const reason = opts.reason.trim();
    if (!reason) throw new UsageError('FLAG_REASON_MISSING', 'a reason is required to clear a flag', { hint: 'say what you checked, e.g. --reason "cloned image; b2 reflashed and provisioned again"' });
    if (!(BOARD_FLAGS as readonly string[]).includes(flag)) throw new UsageError('FLAG_UNKNOWN', `there is no flag "${flag}"`, { hint: `flags: ${BOARD_FLAGS.join(', ')}` });
    const ids = [...new Set(boardIds.map((b) => b.trim()).filter(Boolean))];
    if (!ids.length) throw new UsageError('BOARD_MISSING', 'name the board(s) to clear the flag on', { hint: 'e.g. --board b1 --board b2' });
    const plan = (): ClearedFlag[] => {
      const rows = ids.map((id) => [id, this.get(id)] as const);
      const unknown = rows.filter(([, r]) => !r).map(([id]) => id);
      if (unknown.length) {
        const known = this.all().map((r) => r.boardId);
        throw new UsageError('BOARD_UNKNOWN', `no board ${unknown.map((u) => `"${u}"`).join(', ')} in the fleet ledger`, {
          hint: known.length ? `boards in the ledger: ${known.join(', ')}` : 'the ledger is empty: `keyprov fleet provision` adds the boards',
          details: { unknown, known },
        });
      }
      return rows.map(([id, row]) => {
        const r = row!;
        if (!r.flags.includes(flag)) {
          const last = this.flagEvents(id).filter((e) => e.flag === flag).at(-1);
          const was = last?.kind === 'unflagged' ? `; ${flag} was cleared at ${last.at}` : '';
          throw new UsageError('FLAG_NOT_SET', `board ${id} does not have the flag ${flag} (${r.flags.length ? `its flags: ${r.flags.join(', ')}` : 'it has no flags'}${was})`, {
            hint: 'see `keyprov fleet status`; name the flag the board has',
            details: { board: id, flags: r.flags },
          });
        }
        let sharedWith: string[] = [];
        if (flag === 'duplicate-key' && r.publicKeyFingerprint) {
          sharedWith = (this.db.prepare('SELECT board_id FROM fleet_boards WHERE public_key_fingerprint = ? AND board_id <> ? ORDER BY board_id').all(r.publicKeyFingerprint, id) as { board_id: string }[]).map((o) => o.board_id);
          if (sharedWith.length && !opts.force) {
            throw new UsageError('FLAG_STILL_TRUE', `board ${id}'s key ${r.publicKeyFingerprint.slice(0, 16)}... is still the key of ${sharedWith.join(', ')}: clearing duplicate-key would let ${[id, ...sharedWith].join(' and ')} share one identity`, {
              hint: `give the clone a key of its own first: reflash it and run \`keyprov fleet provision --boards ID --again ID\` (ID: ${[id, ...sharedWith].join(' or ')}); or pass --force if the boards really share one identity`,
              details: { board: id, sharedWith, publicKeyFingerprint: r.publicKeyFingerprint },
            });
          }
        }
        if (flag === 'key-changed' && !opts.force) {
          throw new UsageError('FLAG_STILL_TRUE', `board ${id}: key-changed is cleared by \`keyprov fleet provision\` when the board gets a certificate for the key it holds; the ledger cannot show that it holds its certified key again`, {
            hint: `run \`keyprov fleet provision --boards ${id}\`, or pass --force if you checked the board's key yourself`,
            details: { board: id },
          });
        }
        const forced = !!opts.force && (flag === 'key-changed' || sharedWith.length > 0);
        const note = forced ? (flag === 'key-changed' ? '; --force' : `; --force: key still on ${sharedWith.join(', ')}`) : '';
        return { boardId: id, flag, flagsBefore: r.flags, flagsAfter: r.flags.filter((f) => f !== flag), sharedWith, forced, detail: `${flag}: ${reason} (cleared by ${opts.by}${note})` };
      });
    };
    if (opts.dryRun) return plan();
    return this.db
      .transaction(() => {
        const cleared = plan();
        for (const c of cleared) {
          this.update(c.boardId, { flags: c.flagsAfter.join(' ') });
          this.event(c.boardId, 'unflagged', 'review', c.detail);
        }
        return cleared;
      })
      .immediate();
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
