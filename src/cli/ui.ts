import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';

/** What a command may do with a progress indicator; a no-op when not on a TTY. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

/**
 * Output decided once per run (DESIGN.md): results on stdout, banners/warnings/spinners
 * on stderr; colour and spinners only on a TTY and never with NO_COLOR; `--json` turns
 * results into one object per line with `event` and `ts`.
 */
export class Ui {
  readonly json: boolean;
  /** Colour for stdout. */
  readonly style: ChalkInstance;
  /** Colour for stderr, which may be a terminal when stdout is not. */
  readonly errorStyle: ChalkInstance;
  private readonly interactive: boolean;
  private readonly quiet: boolean;

  constructor(options: { json?: boolean; quiet?: boolean } = {}, private readonly streams = { out: process.stdout, err: process.stderr }) {
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    const colour = streams.out.isTTY && !('NO_COLOR' in process.env);
    this.style = new Chalk({ level: colour ? 1 : 0 });
    this.errorStyle = new Chalk({ level: streams.err.isTTY && !('NO_COLOR' in process.env) ? 1 : 0 });
    // ora redraws by counting wrapped lines: a terminal that reports no width (a
    // pseudo-terminal nobody sized) gets clear-line codes without end.
    const sizedTerminal = !!streams.err.isTTY && (streams.err.columns ?? 0) > 0;
    this.interactive = !this.json && sizedTerminal && !('NO_COLOR' in process.env) && !options.quiet;
  }

  /** One JSON object per line; absent values omitted, bigints as strings (DESIGN.md). */
  emit(event: string, fields: Record<string, unknown> = {}): void {
    const record: Record<string, unknown> = { event, ts: new Date().toISOString() };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null) record[key] = value;
    }
    this.streams.out.write(JSON.stringify(record, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)) + '\n');
  }

  /** A human result line on stdout. */
  line(text = ''): void {
    this.streams.out.write(text + '\n');
  }

  /** Banners and notes for the human on stderr, silent in JSON and quiet modes. */
  note(text: string): void {
    if (!this.json && !this.quiet) this.streams.err.write(text + '\n');
  }

  /** Warnings always reach stderr, also in JSON mode. */
  warn(text: string): void {
    this.streams.err.write(this.errorStyle.yellow.bold(`warning: ${text}`) + '\n');
  }

  /** A problem with the input, coloured with errorStyle, on stderr also in JSON mode, where stdout holds only results. */
  problem(text: string): void {
    this.streams.err.write(text + '\n');
  }

  progress(text: string): Progress {
    if (!this.interactive) return { update() {}, stop() {} };
    const spinner: Ora = ora({ text, stream: this.streams.err }).start();
    return {
      update(next) {
        spinner.text = next;
      },
      stop() {
        spinner.stop();
      },
    };
  }
}

/** A status line kept at the bottom: lines written through `print` appear above it without tearing it. */
export class LiveStatus {
  private progress?: Progress;

  constructor(
    private readonly ui: Ui,
    private text: string,
  ) {}

  start(): void {
    this.progress ??= this.ui.progress(this.text);
  }

  update(text: string): void {
    this.text = text;
    this.progress?.update(text);
  }

  /** The spinner goes, the line is written, the spinner comes back. */
  print(write: () => void): void {
    if (this.progress === undefined) return write();
    this.progress.stop();
    write();
    this.progress = this.ui.progress(this.text);
  }

  stop(): void {
    this.progress?.stop();
    this.progress = undefined;
  }
}
