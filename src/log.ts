/**
 * log: readable `LEVEL msg key=value` lines (or JSON objects with `logging.type: json`).
 * Replicator lines carry `db=` and `replica=` through child loggers. Never pass secrets.
 */

/** LogLevel orders the levels from most to least verbose. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** LogFields are the key=value pairs appended to a line. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** LoggerOptions select the level, the format and the sink. */
export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  write?: (line: string) => void;
  fields?: LogFields;
  /** trace receives every line, debug included, whatever the level (`replicate -trace PATH`). */
  trace?: (line: string) => void;
}

/** Logger writes leveled lines with inherited fields. */
export class Logger {
  private readonly opts: Required<Omit<LoggerOptions, 'trace'>> & Pick<LoggerOptions, 'trace'>;

  constructor(opts: LoggerOptions = {}) {
    this.opts = {
      level: opts.level ?? 'info',
      json: opts.json ?? false,
      write: opts.write ?? ((line) => process.stderr.write(line)),
      fields: opts.fields ?? {},
      trace: opts.trace,
    };
  }

  /** child returns a logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.opts, fields: { ...this.opts.fields, ...fields } });
  }

  /** configure changes the level, format and sinks in place (after the config file is read; children made later inherit them). */
  configure(opts: { level?: LogLevel; json?: boolean; write?: (line: string) => void; trace?: (line: string) => void }): void {
    if (opts.level) this.opts.level = opts.level;
    if (opts.json !== undefined) this.opts.json = opts.json;
    if (opts.write) this.opts.write = opts.write;
    if (opts.trace) this.opts.trace = opts.trace;
  }

  /** enabled reports whether lines of `level` are written (to the output, or to the trace). */
  enabled(level: LogLevel): boolean {
    return this.opts.trace !== undefined || this.writes(level);
  }

  private writes(level: LogLevel): boolean {
    return LEVELS[level] >= LEVELS[this.opts.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const all = { ...this.opts.fields, ...fields };
    const line = this.opts.json ? formatJSON(level, msg, all) : formatText(level, msg, all);
    this.opts.trace?.(line);
    if (this.writes(level)) this.opts.write(line);
  }
}

/** formatText renders `LEVEL msg k=v …\n`, quoting values that hold spaces or quotes. */
export function formatText(level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${level.toUpperCase()} ${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    line += ` ${k}=${quote(String(v))}`;
  }
  return line + '\n';
}

function formatJSON(level: LogLevel, msg: string, fields: LogFields): string {
  const obj: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) obj[k] = v;
  return JSON.stringify(obj) + '\n';
}

function quote(v: string): string {
  return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
}

/** log is the process-wide logger; commands configure it once from flags and config. */
export const log = new Logger();
