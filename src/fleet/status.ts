// `keyprov fleet status`: the ledger as a table, JSON or CSV, with the boards of the
// config that have no row yet shown as `new`.
import type { LedgerRow } from './ledger.js';

export type Stage = 'new' | 'captured' | 'certified' | 'done';

export interface StatusRow {
  board: string;
  thing: string;
  status: LedgerRow['status'] | 'new';
  /** How far the board got: the key and certificate columns. */
  stage: Stage;
  publicKeyFingerprint: string;
  certificateSerial: string;
  flags: string;
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

export function statusRows(rows: LedgerRow[], configured: { id: string; thing: string }[]): StatusRow[] {
  const byId = new Map(rows.map((r) => [r.boardId, r]));
  const ids = [...new Set([...configured.map((c) => c.id), ...rows.map((r) => r.boardId)])].sort();
  return ids.map((id) => {
    const r = byId.get(id);
    const thing = r?.thingName ?? configured.find((c) => c.id === id)?.thing ?? id;
    if (!r) return { board: id, thing, status: 'new', stage: 'new', publicKeyFingerprint: '', certificateSerial: '', flags: '', attempts: 0, updatedAt: '', error: '' };
    return {
      board: id,
      thing,
      status: r.status,
      stage: stageOf(r),
      publicKeyFingerprint: r.publicKeyFingerprint ?? '',
      certificateSerial: r.certificateSerial ?? '',
      flags: r.flags.join(' '),
      attempts: r.attempts,
      updatedAt: r.updatedAt,
      error: r.error ?? '',
    };
  });
}

const COLUMNS: (keyof StatusRow)[] = ['board', 'thing', 'status', 'stage', 'publicKeyFingerprint', 'certificateSerial', 'flags', 'attempts', 'updatedAt', 'error'];

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
  const body = rows.map((r) => [r.board, r.thing, r.status, r.stage, r.publicKeyFingerprint ? `${r.publicKeyFingerprint.slice(0, 16)}...` : '', r.certificateSerial, r.flags, r.error.split('\n')[0]!.slice(0, 60)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
