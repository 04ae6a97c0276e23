/**
 * log: readable `TIME LEVEL msg key=value` lines (or JSON objects with `logging.type: json`).
 * TIME is RFC 3339 UTC with milliseconds; `logging.timestamps: false` leaves it out of text
 * lines (JSON objects always carry `time`). Replicator lines carry `db=` and `replica=`
 * through child loggers. Never pass secrets.
 */
import { recentLines, type RecentLines } from './recent-lines.js';

/** LogLevel orders the levels from most to least verbose. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** LogFields are the key=value pairs appended to a line. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** LineFormat is how lines are written: JSON objects, or text with or without a leading timestamp. */
export interface LineFormat {
  json: boolean;
  timestamps: boolean;
}

/** LoggerOptions select the level, the format (default: text with timestamps) and the sink. */
export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  timestamps?: boolean;
  write?: (line: string) => void;
  fields?: LogFields;
  /** recent keeps the lines written (the status page shows the last ones). */
  recent?: RecentLines;
  /** trace receives every line, debug included, whatever the level, time-stamped (`replicate -trace PATH`). */
  trace?: (line: string) => void;
}

/** Logger writes leveled lines with inherited fields. */
export class Logger {
  private readonly opts: Required<Omit<LoggerOptions, 'recent' | 'trace'>> & Pick<LoggerOptions, 'recent' | 'trace'>;

  constructor(opts: LoggerOptions = {}) {
    this.opts = {
      level: opts.level ?? 'info',
      json: opts.json ?? false,
      timestamps: opts.timestamps ?? true,
      write: opts.write ?? ((line) => process.stderr.write(line)),
      fields: opts.fields ?? {},
      recent: opts.recent,
      trace: opts.trace,
    };
  }

  /** child returns a logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.opts, fields: { ...this.opts.fields, ...fields } });
  }

  /** configure changes the level, format and sinks in place (after the config file is read; children made later inherit them). */
  configure(opts: { level?: LogLevel; json?: boolean; timestamps?: boolean; write?: (line: string) => void; trace?: (line: string) => void }): void {
    if (opts.level) this.opts.level = opts.level;
    if (opts.json !== undefined) this.opts.json = opts.json;
    if (opts.timestamps !== undefined) this.opts.timestamps = opts.timestamps;
    if (opts.write) this.opts.write = opts.write;
    if (opts.trace) this.opts.trace = opts.trace;
  }

  /** format is how this logger writes lines now (the init formats its services' lines the same way). */
  get format(): LineFormat {
    return { json: this.opts.json, timestamps: this.opts.timestamps };
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
    this.opts.trace?.(formatLine(level, msg, all, { json: this.opts.json, timestamps: true }));
    if (!this.writes(level)) return;
    const line = formatLine(level, msg, all, this.format);
    this.opts.recent?.add(line);
    this.opts.write(line);
  }
}

/** formatLine renders one line in `format`: a JSON object, or text behind the timestamp when on. */
export function formatLine(level: LogLevel, msg: string, fields: LogFields, format: LineFormat, now = new Date()): string {
  if (format.json) return formatJSON(level, msg, fields, now);
  return (format.timestamps ? `${timestamp(now)} ` : '') + formatText(level, msg, fields);
}

/** timestamp renders `t` as RFC 3339 UTC with milliseconds: `2026-12-06T19:33:01.123Z`. */
export function timestamp(t = new Date()): string {
  return t.toISOString();
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

function formatJSON(level: LogLevel, msg: string, fields: LogFields, now: Date): string {
  const obj: Record<string, unknown> = { time: timestamp(now), level, msg };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) obj[k] = v;
  return JSON.stringify(obj) + '\n';
}

function quote(v: string): string {
  return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
}

/**
 * log is the process-wide logger; commands configure it once from flags and config. Until
 * then (and for commands that read no config: a restore from a URL) its lines are stamped
 * unless LIFEBOAT_LOG_TIMESTAMPS is 0 (config/logging.ts validates the variable).
 */
export const log = new Logger({ recent: recentLines, timestamps: process.env.LIFEBOAT_LOG_TIMESTAMPS !== '0' });
