/**
 * fields: typed reads from one raw YAML mapping, each error naming the full key path
 * (`dbs[0].replicas[1].sync-interval`) and the bad value. The YAML is parsed with the
 * failsafe schema, so scalars arrive as strings; plain JS values (numbers, booleans) are
 * accepted too. Keys never read are reported as unknown.
 */
import { ConfigError } from '../errors.js';
import { parseDuration } from './duration.js';

/** NULL_WORDS are the YAML spellings of "no value"; such keys count as unset. */
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);

// YAML 1.1 booleans (what the reference's yaml.v2 accepts).
const TRUE_WORDS = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'y', 'Y']);
const FALSE_WORDS = new Set(['false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'n', 'N']);

/** keyPath joins a parent path and a key: `dbs[0]` + `path` → `dbs[0].path`. */
export function keyPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

/** describe names the kind of a raw value for messages ("a mapping", "a list", "a string"). */
export function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  return `a ${typeof v}`;
}

/** isUnset reports whether a raw value means "not given" (absent, YAML null, empty). */
export function isUnset(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && NULL_WORDS.has(v));
}

/** asMapping checks that `v` is a mapping (or unset → empty) and returns it. */
export function asMapping(v: unknown, path: string): Record<string, unknown> {
  if (isUnset(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v) || v === null) {
    throw new ConfigError(path, `expected a mapping, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

/** RawMap reads typed values from one mapping and remembers which keys were read. */
export class RawMap {
  private readonly used = new Set<string>();
  readonly obj: Record<string, unknown>;

  constructor(
    readonly path: string,
    raw: unknown,
  ) {
    this.obj = asMapping(raw, path || '(top level)');
  }

  /** at returns the full path of `key`. */
  at(key: string): string {
    return keyPath(this.path, key);
  }

  /** has reports whether `key` is present at all (even with a null value). */
  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, key);
  }

  /** raw returns the value of `key` (undefined when unset) and marks it read. */
  raw(key: string): unknown {
    this.used.add(key);
    const v = this.obj[key];
    return isUnset(v) ? undefined : v;
  }

  /** string reads a scalar as text. */
  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new ConfigError(this.at(key), `expected a string, got ${describe(v)}`);
  }

  /** secret reads a credential; its value never appears in an error. */
  secret(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new ConfigError(this.at(key), 'invalid value (hidden)');
    return v;
  }

  /** bool reads `true`/`false` (and YAML 1.1's yes/no/on/off/y/n). */
  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined || typeof v === 'boolean') return v;
    if (typeof v === 'string' && TRUE_WORDS.has(v)) return true;
    if (typeof v === 'string' && FALSE_WORDS.has(v)) return false;
    throw new ConfigError(this.at(key), `invalid boolean ${quoteRaw(v)}`, String(v));
  }

  /** int reads a decimal integer. */
  int(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^[-+]?(0|[1-9][0-9]*)$/.test(v) && Number.isSafeInteger(Number(v))) {
      return Number(v);
    }
    throw new ConfigError(this.at(key), `invalid integer ${quoteRaw(v)}`, String(v));
  }

  /** duration reads a Go duration string (`1s`, `1m30s`) as milliseconds. */
  duration(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new ConfigError(this.at(key), `invalid duration: expected a string, got ${describe(v)}`);
    }
    try {
      return parseDuration(String(v));
    } catch {
      throw new ConfigError(this.at(key), `invalid duration ${quoteRaw(v)}`, String(v));
    }
  }

  /** positiveDuration reads a duration that must be greater than 0. */
  positiveDuration(key: string): number | undefined {
    const v = this.duration(key);
    if (v !== undefined && v <= 0) {
      throw new ConfigError(this.at(key), `must be greater than 0, got ${quoteRaw(this.raw(key))}`);
    }
    return v;
  }

  /** nonNegativeDuration reads a duration that must be 0 or more. */
  nonNegativeDuration(key: string): number | undefined {
    const v = this.duration(key);
    if (v !== undefined && v < 0) throw new ConfigError(this.at(key), `must not be negative, got ${quoteRaw(this.raw(key))}`);
    return v;
  }

  /** intAtLeast reads an integer that must be `min` or more (`why` says so in the error). */
  intAtLeast(key: string, min: number, why: string): number | undefined {
    const v = this.int(key);
    if (v !== undefined && v < min) throw new ConfigError(this.at(key), `${why}, got ${v}`, String(v));
    return v;
  }

  /** list reads a sequence. */
  list(key: string): unknown[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new ConfigError(this.at(key), `expected a list, got ${describe(v)}`);
    return v;
  }

  /** unknownKeys lists the paths of keys never read. */
  unknownKeys(): string[] {
    return Object.keys(this.obj)
      .filter((k) => !this.used.has(k))
      .map((k) => this.at(k));
  }
}

/** quoteRaw renders a scalar for a message: strings quoted, others as-is. */
export function quoteRaw(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** dropUndefined removes keys whose value is undefined, so spreads never erase earlier values. */
export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
