/**
 * load: find, read, env-expand, parse and validate the config file.
 *
 * Lookup order: the `-config` flag, `$LIFEBOAT_CONFIG`, `$LITESTREAM_CONFIG`, then the
 * first existing file of CONFIG_SEARCH_PATHS (`/etc/lifeboat.yml`, `/etc/litestream.yml`),
 * then `$LIFEBOAT_DEFAULT_CONFIG` — a default used only when the user gave no config (the
 * image points it at its demo's). A file named by the flag or by `$LIFEBOAT_CONFIG` /
 * `$LITESTREAM_CONFIG` must exist; the others may all be absent.
 */
import { fs } from '../builtin.js';
import { createRequire } from 'node:module';
import { ConfigError, errorMessage, isNotFound } from '../errors.js';
import { CONFIG_ENV_VARS, CONFIG_SEARCH_PATHS, DEFAULT_CONFIG_ENV } from './defaults.js';
import { expandEnv } from './expand.js';
import { defaultPathContext, expandPath, type PathContext } from './paths.js';
import type { Config } from './types.js';
import { validateConfig } from './validate.js';

/** ResolvedConfigPath is a config file to read; `explicit` = named by the flag or an env var; `fallback` = the default (`$LIFEBOAT_DEFAULT_CONFIG`). */
export interface ResolvedConfigPath {
  path: string;
  explicit: boolean;
  fallback?: boolean;
}

/** resolveConfigPath picks the config file (see the lookup order above); undefined when none is named or found. */
export function resolveConfigPath(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  searchPaths: readonly string[] = CONFIG_SEARCH_PATHS,
): ResolvedConfigPath | undefined {
  const named: [string, string | undefined][] = [['-config', flag], ...CONFIG_ENV_VARS.map((v): [string, string | undefined] => [`$${v}`, env[v]])];
  for (const [source, value] of named) {
    if (value === undefined || value === '') continue;
    const p = expandPath(value);
    if (!fs.existsSync(p)) throw new ConfigError('', `config file not found: ${p} (from ${source})`, p);
    return { path: p, explicit: true };
  }
  const found = searchPaths.find((p) => fs.existsSync(p));
  if (found !== undefined) return { path: found, explicit: false };
  const fallback = env[DEFAULT_CONFIG_ENV];
  if (fallback === undefined || fallback === '' || !fs.existsSync(expandPath(fallback))) return undefined;
  return { path: expandPath(fallback), explicit: false, fallback: true };
}

/** noConfigFound is the message for no config file named or found, listing the places looked at. */
export function noConfigFound(env: NodeJS.ProcessEnv = process.env): string {
  const fallback = env[DEFAULT_CONFIG_ENV] ? [`$${DEFAULT_CONFIG_ENV}`] : [];
  return `no config file found (tried ${[...CONFIG_ENV_VARS.map((v) => `$${v}`), ...CONFIG_SEARCH_PATHS, ...fallback].join(', ')})`;
}

/** LoadConfigOptions: the file (else resolveConfigPath), env expansion (default on), the env to expand from. */
export interface LoadConfigOptions {
  path?: string;
  expandEnv?: boolean;
  env?: NodeJS.ProcessEnv;
  paths?: PathContext;
  /** healthEnv applies `$LIFEBOAT_HEALTH_MAX_LAG` (replicate, status and the init judge health; the other commands never read it). */
  healthEnv?: boolean;
  /** parsed: a parse of this file done by another process, used when its text is exactly the one read here (ParsedText). */
  parsed?: ParsedText;
  /** onParsed receives the text parsed and its YAML tree, before validation. */
  onParsed?: (parsed: ParsedText) => void;
}

/**
 * ParsedText is a config's env-expanded text and the YAML tree parsed from it (the failsafe
 * schema: strings, maps, lists, nulls; plain JSON). The init's prestarted replicator parses
 * the config file anyway and hands it to the init this way, which then needs no YAML library
 * of its own (+4 MB resident, docs/benchmarks.md "The init"). The text travels with the
 * tree: the receiver uses the tree only for exactly the text it would parse itself.
 */
export interface ParsedText {
  src: string;
  tree: unknown;
}

/** decodeParsedText reads a ParsedText from its JSON; undefined when it is not one. */
export function decodeParsedText(json: string): ParsedText | undefined {
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v !== 'object' || v === null || !('src' in v) || typeof v.src !== 'string' || !('tree' in v)) return undefined;
    return { src: v.src, tree: v.tree };
  } catch {
    return undefined;
  }
}

/** loadConfig reads and validates the config file; every failure is one ConfigError line naming the file. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Config> {
  const env = opts.env ?? process.env;
  const resolved = opts.path !== undefined ? { path: expandPath(opts.path) } : resolveConfigPath(undefined, env);
  if (!resolved) throw new ConfigError('', noConfigFound());
  const file = resolved.path;
  let text: string;
  try {
    // Synchronously: a config is small, and fs.promises would load fs/promises and the
    // readline it brings (~2 MB resident) into the init and the replicator for this alone.
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) throw new ConfigError('', `config file not found: ${file}`, file);
    throw new ConfigError('', `read config ${file}: ${errorMessage(err)}`);
  }
  const config = parseConfigText(text, {
    file,
    expandEnv: opts.expandEnv,
    env,
    paths: opts.paths,
    healthEnv: opts.healthEnv,
    parsed: opts.parsed,
    onParsed: opts.onParsed,
  });
  config.file = file;
  return config;
}

/** ParseConfigOptions: the file name for messages, env expansion, where paths resolve, whether `$LIFEBOAT_HEALTH_MAX_LAG` applies, and a parse done elsewhere (LoadConfigOptions). */
export interface ParseConfigOptions {
  file?: string;
  expandEnv?: boolean;
  env?: NodeJS.ProcessEnv;
  paths?: PathContext;
  healthEnv?: boolean;
  parsed?: ParsedText;
  onParsed?: (parsed: ParsedText) => void;
}

/** parseConfigText expands, parses and validates config text; errors are prefixed with `file: `. */
export function parseConfigText(text: string, opts: ParseConfigOptions = {}): Config {
  const file = opts.file ?? 'config';
  const src = opts.expandEnv === false ? text : expandEnv(text, opts.env ?? process.env);
  const raw = opts.parsed !== undefined && opts.parsed.src === src ? opts.parsed.tree : parseYAML(src, file);
  opts.onParsed?.({ src, tree: raw });
  try {
    return validateConfig(raw, { paths: opts.paths ?? defaultPathContext(), env: opts.env ?? process.env, healthEnv: opts.healthEnv === true });
  } catch (err) {
    if (err instanceof ConfigError) err.message = `${file}: ${err.message}`;
    throw err;
  }
}

/**
 * yaml loads the YAML library on first use (~20 ms of start-up), so a process can start
 * its children before it pays for it (the init's early replicator, see supervisor/prestart.ts).
 */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

/**
 * parseYAML parses with the failsafe schema (every scalar a string; the validator types
 * them, so `bucket: 0123` stays "0123" as in the reference's yaml.v2) and merge keys on.
 * A syntax error becomes one line: `file:line:col: message`.
 */
export function parseYAML(text: string, file: string): unknown {
  const doc = yaml().parseDocument(text, { schema: 'failsafe', merge: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new ConfigError('', `${where}: invalid YAML: ${err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  return doc.toJS({ maxAliasCount: 1000 });
}
