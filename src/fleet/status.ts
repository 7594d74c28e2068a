// `keyprov fleet status`: the ledger as a table, JSON or CSV, with the boards of the
// config that have no row yet shown as `new`.
import type { FlagEvent, LedgerRow } from './ledger.js';

export type Stage = 'new' | 'captured' | 'certified' | 'done';

export interface StatusRow {
  board: string;
  thing: string;
  status: LedgerRow['status'] | 'new';
  /** How far the board got: the key and certificate columns. */
  stage: Stage;
  publicKeyFingerprint: string;
  certificateSerial: string;
  /** Flags the board has now (space-separated). */
  flags: string;
  /** Flags it had and no longer has (cleared by review or by a new certificate): its last event for them is `unflagged`. */
  clearedFlags: string;
  attempts: number;
  updatedAt: string;
  error: string;
}

export function stageOf(r: LedgerRow): Stage {
  if (r.status === 'done') return 'done';
  if (r.certificateSerial) return 'certified';
  if (r.publicKeyFingerprint) return 'captured';
  return 'new';
}

/** Per board, the flags whose latest event is `unflagged` and that are not set again. */
export function clearedFlags(row: LedgerRow, events: FlagEvent[]): string[] {
  const last = new Map<string, FlagEvent['kind']>();
  for (const e of events) if (e.boardId === row.boardId) last.set(e.flag, e.kind);
  return [...last].filter(([flag, kind]) => kind === 'unflagged' && !row.flags.includes(flag as never)).map(([flag]) => flag);
}

export function statusRows(rows: LedgerRow[], configured: { id: string; thing: string }[], flagEvents: FlagEvent[] = []): StatusRow[] {
  const byId = new Map(rows.map((r) => [r.boardId, r]));
  const ids = [...new Set([...configured.map((c) => c.id), ...rows.map((r) => r.boardId)])].sort();
  return ids.map((id) => {
    const r = byId.get(id);
    const thing = r?.thingName ?? configured.find((c) => c.id === id)?.thing ?? id;
    if (!r) return { board: id, thing, status: 'new', stage: 'new', publicKeyFingerprint: '', certificateSerial: '', flags: '', clearedFlags: '', attempts: 0, updatedAt: '', error: '' };
    return {
      board: id,
      thing,
      status: r.status,
      stage: stageOf(r),
      publicKeyFingerprint: r.publicKeyFingerprint ?? '',
      certificateSerial: r.certificateSerial ?? '',
      flags: r.flags.join(' '),
      clearedFlags: clearedFlags(r, flagEvents).join(' '),
      attempts: r.attempts,
      updatedAt: r.updatedAt,
      error: r.error ?? '',
    };
  });
}

const COLUMNS: (keyof StatusRow)[] = ['board', 'thing', 'status', 'stage', 'publicKeyFingerprint', 'certificateSerial', 'flags', 'attempts', 'updatedAt', 'error', 'clearedFlags'];

/** RFC 4180: quote fields with a comma, quote or line break; double the quotes. */
export function toCsv(rows: StatusRow[]): string {
  const cell = (v: unknown) => {
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

export function toTable(rows: StatusRow[]): string {
  const head = ['BOARD', 'THING', 'STATUS', 'STAGE', 'KEY', 'SERIAL', 'FLAGS', 'ERROR'];
  const flags = (r: StatusRow) => [r.flags, r.clearedFlags && `cleared: ${r.clearedFlags}`].filter(Boolean).join('; ');
  const body = rows.map((r) => [r.board, r.thing, r.status, r.stage, r.publicKeyFingerprint ? `${r.publicKeyFingerprint.slice(0, 16)}...` : '', r.certificateSerial, flags(r), r.error.split('\n')[0]!.slice(0, 60)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Every flag raised and cleared, oldest first: when, which board, what, and (for a review) why and who. */
export function flagHistoryText(events: FlagEvent[]): string {
  if (!events.length) return '';
  const idw = Math.max(...events.map((e) => e.boardId.length));
  return ['flag history:', ...events.map((e) => `${e.at}  ${e.boardId.padEnd(idw)}  ${e.kind.padEnd(9)}  ${e.detail ?? e.flag}`)].join('\n');
}
