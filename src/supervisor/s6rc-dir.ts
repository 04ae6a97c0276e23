/**
 * s6rc-dir: read an s6-overlay v3 tree, `<base>/s6-rc.d/<name>/` (s6-rc's source format):
 * `type` (longrun, oneshot, bundle), `dependencies.d/` and `contents.d/` (or the older
 * `dependencies` and `contents` files), a longrun's service files as services.d's
 * (service-dir.ts), a oneshot's `up` and `down`, and `timeout-up` / `timeout-down`. Only
 * what the `user` bundle reaches is kept (s6rc-graph.ts). A bad file is a ConfigError
 * naming it.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { EXECLINEB_PATHS, splitExeclineWords } from './execline-words.js';
import { planTree, type S6rcNode, type S6rcPlan, type S6rcType } from './s6rc-graph.js';
import type { ScriptCommand } from './script.js';
import { readServiceDir, setting, type ServiceDef } from './service-dir.js';

/** USER_BUNDLE is the bundle s6-overlay brings up for the user: what it reaches is started. */
export const USER_BUNDLE = 'user';

/**
 * PROVIDED are s6-overlay's own services a user tree may depend on: taken as up (Lifeboat
 * runs cont-init.d before the v3 tree and services.d after it, docs/migrating-from-s6-overlay.md).
 */
export const PROVIDED: ReadonlySet<string> = new Set(['base', 'fix-attrs', 'legacy-cont-init', 'legacy-services', 'user2']);

/** S6rcAtom is a oneshot or a longrun of the tree, ready to run. */
export type S6rcAtom =
  | { kind: 'longrun'; name: string; def: ServiceDef; timeoutUp: number; timeoutDown: number; producerFor?: string; consumer: boolean }
  | { kind: 'oneshot'; name: string; dir: string; up: ScriptCommand; down?: ScriptCommand; timeoutUp: number; timeoutDown: number };

/** S6rcTreeDef is the tree to bring up: the plan and its atoms. */
export interface S6rcTreeDef {
  dir: string;
  plan: S6rcPlan;
  atoms: Map<string, S6rcAtom>;
}

/** findExeclineb is the first execlineb of EXECLINEB_PATHS that exists, else undefined. */
export function findExeclineb(paths: readonly string[] = EXECLINEB_PATHS): string | undefined {
  return paths.find((p) => fs.existsSync(p));
}

/**
 * readS6rcTree reads `<base>/s6-rc.d`; undefined when it does not exist. `execlineb` runs
 * the oneshots' scripts (`execlineb -P FILE`); without it they are read as one command line.
 */
export function readS6rcTree(base: string, execlineb: string | undefined, log?: Logger): S6rcTreeDef | undefined {
  const dir = path.resolve(base, 's6-rc.d');
  if (!isDir(dir)) return undefined;
  const nodes = new Map<string, S6rcNode>();
  for (const name of fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort()) {
    if (isDir(path.join(dir, name))) nodes.set(name, readNode(dir, name));
  }
  addPipelines(dir, nodes);
  const plan = planTree(nodes, USER_BUNDLE, PROVIDED);
  const atoms = new Map<string, S6rcAtom>();
  for (const name of plan.order) atoms.set(name, readAtom(path.join(dir, name), nodes.get(name)!.type, execlineb, log));
  return { dir, plan, atoms };
}

function readNode(dir: string, name: string): S6rcNode {
  const type = setting(path.join(dir, name), 'type', parseType);
  if (type === undefined) throw new ConfigError(path.join(dir, name, 'type'), 'missing: a service needs a type (longrun, oneshot or bundle)');
  const svc = path.join(dir, name);
  return { name, type, dependencies: names(svc, 'dependencies'), contents: type === 'bundle' ? names(svc, 'contents') : [] };
}

function readAtom(dir: string, type: S6rcType, execlineb: string | undefined, log?: Logger): S6rcAtom {
  const name = path.basename(dir);
  const timeoutUp = setting(dir, 'timeout-up', parseMillis) ?? 0;
  const timeoutDown = setting(dir, 'timeout-down', parseMillis) ?? 0;
  if (type === 'longrun') {
    const def = { ...readServiceDir(dir, log), down: false, essential: false };
    return { kind: 'longrun', name, def, timeoutUp, timeoutDown, producerFor: producerFor(dir), consumer: fs.existsSync(path.join(dir, 'consumer-for')) };
  }
  const up = script(path.join(dir, 'up'), execlineb);
  if (!up) throw new ConfigError(path.join(dir, 'up'), 'missing: a oneshot needs an up file');
  return { kind: 'oneshot', name, dir, up, down: script(path.join(dir, 'down'), execlineb), timeoutUp, timeoutDown };
}

/**
 * script is the argv that runs an `up` or `down` file: `execlineb -P FILE` when execlineb
 * is there, else the file read as one command line (then `file` is its program, named
 * when it cannot start); undefined when the file is absent.
 */
export function script(file: string, execlineb: string | undefined): ScriptCommand | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(file, `read: ${(err as Error).message}`);
  }
  if (execlineb) return { file, argv: [execlineb, '-P', file] };
  try {
    const argv = splitExeclineWords(text);
    return { file: argv[0], argv };
  } catch (err) {
    throw new ConfigError(file, (err as Error).message);
  }
}

/**
 * addPipelines wires s6-rc pipelines: a producer (`producer-for NAME`) depends on its
 * consumer, so the consumer reads before the producer writes and stops after it; the last
 * consumer's `pipeline-name` is a bundle of the whole pipeline.
 */
function addPipelines(dir: string, nodes: Map<string, S6rcNode>): void {
  const feeds = new Map<string, string>();
  for (const node of nodes.values()) {
    const consumer = node.type === 'longrun' ? producerFor(path.join(dir, node.name)) : undefined;
    if (!consumer) continue;
    feeds.set(node.name, consumer);
    if (!node.dependencies.includes(consumer)) node.dependencies.push(consumer);
  }
  for (const node of [...nodes.values()]) {
    const pipeline = node.type === 'longrun' ? setting(path.join(dir, node.name), 'pipeline-name', (t) => t) : undefined;
    if (!pipeline) continue;
    const reaches = (n: string, seen = new Set<string>()): boolean => n === node.name || (!seen.has(n) && feeds.has(n) && reaches(feeds.get(n)!, seen.add(n)));
    const contents = [...nodes.keys()].filter((n) => reaches(n));
    nodes.set(pipeline, { name: pipeline, type: 'bundle', dependencies: [], contents });
  }
}

/** producerFor is the service a longrun's stdout feeds (`producer-for`), if any. */
function producerFor(dir: string): string | undefined {
  return setting(dir, 'producer-for', (t) => t) || undefined;
}

/** names lists `<kind>.d/` (one empty file per name) and the lines of `<kind>`, as s6-rc-compile reads them. */
function names(dir: string, kind: string): string[] {
  const out = new Set<string>();
  const d = path.join(dir, `${kind}.d`);
  if (isDir(d)) for (const n of fs.readdirSync(d)) if (!n.startsWith('.')) out.add(n);
  const lines = setting(dir, kind, (t) => t.split('\n')) ?? [];
  for (const l of lines.map((x) => x.trim())) if (l && !l.startsWith('#')) out.add(l);
  return [...out].sort();
}

function parseType(text: string): S6rcType {
  if (text === 'longrun' || text === 'oneshot' || text === 'bundle') return text;
  throw new Error('not longrun, oneshot or bundle');
}

function parseMillis(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error('not a whole number of milliseconds');
  return Number(text);
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
