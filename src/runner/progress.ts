/**
 * Progress on stderr: a live line on a terminal, plain periodic lines otherwise (logs, CI), nothing with
 * --quiet. Shows done/total, examples/s, generated tokens/s and an ETA.
 */
export class Progress {
  private done = 0;
  /** Examples an earlier run already predicted: counted in done/total, never in the rate or the ETA. */
  private resumed = 0;
  private tokens = 0;
  private readonly start: number;
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = Number(process.env.FLAN_EVAL_PROGRESS_MS ?? 10_000),
    private readonly now: () => number = Date.now,
  ) {
    this.tty = Boolean(stream.isTTY);
    this.start = now();
  }

  /** Count examples reused from an earlier run (shown as done, but they took no time now). */
  resume(examples: number): void {
    this.done += examples;
    this.resumed += examples;
  }

  advance(examples: number, tokens: number): void {
    this.done += examples;
    this.tokens += tokens;
    const now = this.now();
    if (this.quiet) return;
    if (this.tty && now - this.lastPrint > 200) {
      this.stream.write(`\r\x1b[2K${this.line()}`);
      this.lastPrint = now;
    } else if (!this.tty && (now - this.lastPrint >= this.intervalMs || this.done === this.total)) {
      this.stream.write(`${this.line()}\n`);
      this.lastPrint = now;
    }
  }

  finish(): void {
    if (this.quiet) return;
    if (this.tty) this.stream.write(`\r\x1b[2K${this.line()}\n`);
    else if (this.lastPrint === 0 || this.done !== this.total) this.stream.write(`${this.line()}\n`);
  }

  private line(): string {
    const secs = Math.max(1e-3, (this.now() - this.start) / 1000);
    const rate = (this.done - this.resumed) / secs;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const width = 24;
    const filled = this.total ? Math.round((width * this.done) / this.total) : width;
    const bar = this.tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const resumed = this.resumed ? ` (${this.resumed} resumed)` : '';
    return `${this.label} ${bar}${this.done}/${this.total}${resumed} · ${rate.toFixed(2)} ex/s · ${(this.tokens / secs).toFixed(1)} tok/s · ETA ${formatSeconds(eta)}`;
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
