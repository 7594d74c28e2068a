// What a person sees while the fleet runs: on a terminal, a board-by-step table redrawn in
// place; in CI (no TTY), one plain line per finished step, prefixed with the board id.
import type { Logger } from '../log.js';
import type { StepRecord } from '../pipeline/steps.js';

export interface BoardView {
  id: string;
  thing?: string;
  state: 'queued' | 'running' | 'ok' | 'failed' | 'skipped';
  steps: StepRecord[];
  note?: string;
  startedAt?: number;
  endedAt?: number;
}

// One column per step; short headings keep a 13-step row within 100 columns.
const SHORT: Record<string, string> = {
  preflight: 'pre',
  probe: 'prb',
  'patch-keygen': 'pat',
  'build-keygen': 'bkg',
  'flash-keygen': 'fkg',
  capture: 'cap',
  restore: 'rst',
  issue: 'iss',
  render: 'ren',
  register: 'aws',
  'build-credential': 'bcr',
  'flash-credential': 'fcr',
  verify: 'vfy',
};

export class FleetDisplay {
  private readonly views = new Map<string, BoardView>();
  private readonly printed = new Map<string, Set<number>>();
  private pinned = false;
  private readonly stepNames: readonly string[];

  constructor(
    private readonly log: Logger,
    boards: { id: string; thing?: string }[],
    stepNames: readonly string[],
  ) {
    this.stepNames = stepNames;
    for (const b of boards) this.views.set(b.id, { id: b.id, thing: b.thing, state: 'queued', steps: [] });
  }

  get live(): boolean {
    return this.log.isTTY && !this.log.quiet;
  }

  view(id: string): BoardView {
    return this.views.get(id)!;
  }

  /** A board's steps changed (a step started or finished). */
  update(id: string, patch: Partial<BoardView>): void {
    const v = this.view(id);
    Object.assign(v, patch);
    if (this.live) return this.draw();
    const seen = this.printed.get(id) ?? new Set<number>();
    this.printed.set(id, seen);
    v.steps.forEach((r, i) => {
      if (r.outcome === 'not-run' || r.durationMs === undefined || seen.has(i)) return;
      seen.add(i);
      if (r.outcome === 'skipped') return; // the why is in report.json; CI logs stay short
      const dur = ` (${(r.durationMs / 1000).toFixed(1)} s)`;
      this.log.info(`[${id}] ${r.name} ${r.outcome === 'failed' ? 'FAILED' : r.outcome}${dur}${r.detail ? ` - ${r.detail}` : r.error ? ` - ${r.error.code}: ${r.error.message}` : ''}`);
    });
  }

  /** A one-off line (e.g. the keygen build, a flag): printed above the table (the logger keeps its live area below). */
  line(text: string): void {
    this.log.info(text);
  }

  /** Stop redrawing; the last table stays on screen. */
  close(): void {
    if (this.pinned) this.log.unpin();
    this.pinned = false;
  }

  private mark(r: StepRecord | undefined): string {
    if (!r || r.outcome === 'not-run') return r?.startedAt ? this.log.paint('cyan', '...') : ' . ';
    if (r.outcome === 'ok') return this.log.paint('green', ' ok');
    if (r.outcome === 'failed') return this.log.paint('red', 'ERR');
    return this.log.paint('dim', ' - ');
  }

  /**
   * The table lives in the logger's pinned area, so anything logged meanwhile (the keygen
   * build's commands, a wait for another run's lock, warnings) is written above it.
   */
  draw(): void {
    if (!this.live) return;
    if (this.pinned) return this.log.repaint();
    this.pinned = true;
    this.log.pin(() => this.lines());
  }

  private lines(): string[] {
    const idw = Math.max(5, ...[...this.views.keys()].map((k) => k.length));
    const lines = [`${'board'.padEnd(idw)}  ${this.stepNames.map((s) => (SHORT[s] ?? s.slice(0, 3)).padStart(3)).join(' ')}   time  note`];
    for (const v of this.views.values()) {
      const byName = new Map(v.steps.map((r) => [r.name, r]));
      const t = v.startedAt ? `${(((v.endedAt ?? Date.now()) - v.startedAt) / 1000).toFixed(1)}s` : '';
      const running = v.steps.find((r) => r.startedAt && r.outcome === 'not-run');
      const note = v.note ?? (running ? running.title : v.state === 'queued' ? 'queued' : '');
      lines.push(`${v.id.padEnd(idw)}  ${this.stepNames.map((s) => this.mark(byName.get(s))).join(' ')} ${t.padStart(6)}  ${note}`);
    }
    return lines;
  }
}
