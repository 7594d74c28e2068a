// Named, timed steps with a report: the skeleton of `keyprov provision`.
// Every step reads what earlier steps left in the board's state folder, so `--from STEP`
// can resume after a failure without redoing what is done.
import { KeyprovError, UsageError, isKeyprovError } from '../errors.js';
import type { Logger } from '../log.js';

export type StepOutcome = 'ok' | 'skipped' | 'failed' | 'not-run';

export interface StepRecord {
  name: string;
  title: string;
  outcome: StepOutcome;
  startedAt?: string;
  durationMs?: number;
  /** One line about what happened (shown in the step list). */
  detail?: string;
  /** Facts for report.json: tool versions, fingerprints, files written. */
  facts?: Record<string, unknown>;
  error?: { code: string; message: string; hint?: string };
}

export interface StepControl {
  /** Set the one-line detail shown beside the step. */
  detail(text: string): void;
  fact(key: string, value: unknown): void;
  /** Mark the step as skipped (with why) instead of ok. */
  skip(why: string): void;
  /** Live progress text beside the step (e.g. a countdown), drawn on a terminal, dropped in CI; `undefined` shows the detail again. */
  progress(text: string | undefined): void;
}

export interface Step<C> {
  name: string;
  title: string;
  /** Runs even when an earlier step failed or the run was interrupted (e.g. restoring the source). */
  always?: boolean;
  run(ctx: C, ctl: StepControl): Promise<void>;
}

export interface RunStepsOptions {
  log: Logger;
  from?: string;
  /** Called after every step (to persist report.json as the run goes). */
  onRecord?: (records: StepRecord[]) => Promise<void> | void;
  /** Called when a step starts (live tables of several boards). */
  onStart?: (records: StepRecord[], index: number) => Promise<void> | void;
  /** Aborted by SIGINT/SIGTERM; steps not marked `always` stop being started. */
  signal?: AbortSignal;
}

/**
 * On a terminal the list is pinned at the bottom of the screen (Logger.pin): lines logged
 * while it is shown end up above it. In CI, one plain line per finished step.
 */
export class StepList {
  private current?: number;
  private progressText?: string;
  constructor(
    private readonly log: Logger,
    private readonly records: StepRecord[],
  ) {}

  private get live(): boolean {
    return this.log.isTTY && !this.log.quiet;
  }

  private line(r: StepRecord, i: number, progress?: string): string {
    const n = `[${i + 1}/${this.records.length}]`;
    const mark =
      r.outcome === 'ok' ? this.log.paint('green', 'ok') : r.outcome === 'failed' ? this.log.paint('red', 'FAILED') : r.outcome === 'skipped' ? this.log.paint('dim', 'skipped') : r.startedAt ? this.log.paint('cyan', '...') : '';
    const dur = r.durationMs !== undefined ? ` (${(r.durationMs / 1000).toFixed(1)} s)` : '';
    const extra = progress ?? r.detail;
    return `${n} ${r.title} ${mark}${dur}${extra ? ` - ${extra}` : ''}`;
  }

  private lines(): string[] {
    return this.records.map((r, i) => this.line(r, i, i === this.current ? this.progressText : undefined));
  }

  /** Show the list (pinned on a terminal). */
  show(): void {
    if (this.live) this.log.pin(() => this.lines());
  }

  /** Redraw with step `current` running and its live progress text (e.g. a countdown). */
  draw(current?: number, progress?: string): void {
    this.current = current;
    this.progressText = progress;
    if (this.live) this.log.repaint();
  }

  finished(i: number): void {
    this.draw();
    if (!this.live) this.log.info(this.line(this.records[i]!, i));
  }

  /** Leave the final list on screen; later lines go below it. */
  close(): void {
    if (this.live) this.log.unpin();
  }
}

/** Run the steps in order. Returns the records; throws the first failure after the `always` steps ran. */
export async function runSteps<C>(steps: Step<C>[], ctx: C, opts: RunStepsOptions): Promise<StepRecord[]> {
  const records: StepRecord[] = steps.map((s) => ({ name: s.name, title: s.title, outcome: 'not-run' }));
  let start = 0;
  if (opts.from) {
    start = steps.findIndex((s) => s.name === opts.from);
    if (start < 0) throw new UsageError('STEP_UNKNOWN', `no step named "${opts.from}"`, { hint: `steps: ${steps.map((s) => s.name).join(', ')}` });
    for (let i = 0; i < start; i++) Object.assign(records[i]!, { outcome: 'skipped', detail: `skipped (--from ${opts.from})` });
  }
  const list = new StepList(opts.log, records);
  list.show();
  let failure: unknown;
  try {
    for (let i = start; i < steps.length; i++) {
      const step = steps[i]!;
      const rec = records[i]!;
      if ((failure || opts.signal?.aborted) && !step.always) continue;
      rec.startedAt = new Date().toISOString();
      const t0 = performance.now();
      let skipped: string | undefined;
      const ctl: StepControl = {
        detail: (t) => (rec.detail = t),
        fact: (k, v) => ((rec.facts ??= {})[k] = v),
        skip: (why) => (skipped = why),
        progress: (t) => list.draw(i, t),
      };
      list.draw(i);
      await opts.onStart?.(records, i);
      try {
        await step.run(ctx, ctl);
        rec.outcome = skipped ? 'skipped' : 'ok';
        if (skipped) rec.detail = skipped;
      } catch (e) {
        rec.outcome = 'failed';
        rec.error = isKeyprovError(e) ? { code: e.code, message: e.message, hint: e.hint } : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
        failure ??= e;
      }
      rec.durationMs = Math.round(performance.now() - t0);
      list.finished(i);
      await opts.onRecord?.(records);
    }
  } finally {
    list.close();
  }
  if (failure) throw failure;
  if (opts.signal?.aborted) throw new KeyprovError('INTERRUPTED', 'interrupted; the steps marked to always run have run (the source is restored)', { exitCode: 130 });
  return records;
}
