/**
 * Download progress on stderr. On a terminal: one line rewritten in place (files done, bytes, the file
 * being fetched). Elsewhere (CI logs, tests): one line per finished file, so logs stay readable.
 */
export class Progress {
  private filesDone = 0;
  private bytes = 0;
  private readonly active = new Map<number, { label: string; got: number; total?: number }>();
  private nextId = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private totalFiles: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY) && !process.env.CI,
  ) {}

  /** The number of files this run will fetch, once known. */
  setTotal(n: number): void {
    this.totalFiles = n;
  }

  start(label: string, total?: number): FileProgress {
    const id = this.nextId++;
    this.active.set(id, { label, got: 0, total });
    return {
      add: (n) => {
        const a = this.active.get(id);
        if (!a) return;
        a.got += n;
        this.bytes += n;
        this.draw(false);
      },
      restart: () => {
        const a = this.active.get(id);
        if (!a) return;
        this.bytes -= a.got;
        a.got = 0;
      },
      done: (note) => {
        const a = this.active.get(id);
        this.active.delete(id);
        this.filesDone++;
        this.line(`  ${label}  ${note ?? formatBytes(a?.got ?? 0)}`);
      },
      end: () => {
        this.active.delete(id);
      },
    };
  }

  /** A message (retry notice, skip notice) that must not be overdrawn by the bar. */
  line(text: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    this.drawn = false;
    this.draw(true);
  }

  finish(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.tty || this.active.size === 0) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const [current] = this.active.values();
    const pct = current?.total ? ` ${Math.floor((100 * current.got) / current.total)}%` : '';
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const text = `[${this.filesDone}/${this.totalFiles}] ${formatBytes(this.bytes)}  ${current?.label ?? ''}${pct}`;
    this.out.write(`\r\x1b[2K${text.slice(0, width)}`);
    this.drawn = true;
  }
}

export interface FileProgress {
  add(bytes: number): void;
  /** A retry starts over: forget the bytes of the failed attempt. */
  restart(): void;
  done(note?: string): void;
  /** Stop tracking without a "done" line (the file failed or was not needed). */
  end(): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
