/**
 * s6rc-graph: the dependency graph of an s6-rc source tree (s6-overlay v3), pure — which
 * atoms (oneshots and longruns) a top bundle reaches through bundle contents and
 * dependencies, each atom's dependencies with bundles expanded, and an order in which every
 * atom comes after its dependencies. A dependency that names nothing, or a cycle, is a
 * ConfigError naming it: s6-overlay's s6-rc-compile refuses such a tree and the boot fails.
 */
import { ConfigError } from '../errors.js';

/** S6rcType is a service's `type` file. */
export type S6rcType = 'longrun' | 'oneshot' | 'bundle';

/** S6rcNode is one service of the tree as the graph needs it. */
export interface S6rcNode {
  name: string;
  type: S6rcType;
  /** dependencies are the names in `dependencies.d/` (or `dependencies`). */
  dependencies: string[];
  /** contents are a bundle's names in `contents.d/` (or `contents`). */
  contents: string[];
}

/** S6rcPlan is what the top bundle brings up: atoms in start order, each with the atoms it depends on. */
export interface S6rcPlan {
  order: string[];
  dependsOn: Map<string, string[]>;
}

/**
 * planTree resolves `top` in `nodes`. Names in `provided` are s6-overlay's own services
 * (`base`, `legacy-cont-init` …): taken as up, never started. A missing `top` is an empty plan.
 */
export function planTree(nodes: ReadonlyMap<string, S6rcNode>, top: string, provided: ReadonlySet<string> = new Set()): S6rcPlan {
  const dependsOn = new Map<string, string[]>();
  if (!nodes.has(top)) return { order: [], dependsOn };
  const expand = bundleExpander(nodes, provided);
  const pending = expand(top, top);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (dependsOn.has(name)) continue;
    const deps = [...new Set(nodes.get(name)!.dependencies.flatMap((d) => expand(d, name)))].sort();
    dependsOn.set(name, deps);
    pending.push(...deps);
  }
  return { order: topoOrder(dependsOn), dependsOn };
}

/** bundleExpander returns a function giving the atoms a name stands for (`from` names who refers to it, for errors). */
function bundleExpander(nodes: ReadonlyMap<string, S6rcNode>, provided: ReadonlySet<string>): (name: string, from: string) => string[] {
  const expand = (name: string, from: string, path: string[]): string[] => {
    if (provided.has(name)) return [];
    const node = nodes.get(name);
    if (!node) throw new ConfigError(`s6-rc.d/${from}`, `depends on or contains ${JSON.stringify(name)}, which is not a service`, name);
    if (node.type !== 'bundle') return [name];
    if (path.includes(name)) throw new ConfigError(`s6-rc.d/${name}`, `bundle contains itself: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
    return node.contents.flatMap((c) => expand(c, name, [...path, name]));
  };
  return (name, from) => expand(name, from, []);
}

/** topoOrder orders the atoms dependencies first (ties by name); a cycle is a ConfigError naming it. */
export function topoOrder(dependsOn: ReadonlyMap<string, readonly string[]>): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const at = visiting.indexOf(name);
    if (at !== -1) {
      const cycle = [...visiting.slice(at), name].join(' -> ');
      throw new ConfigError(`s6-rc.d/${name}`, `dependency cycle: ${cycle}`);
    }
    visiting.push(name);
    for (const dep of dependsOn.get(name) ?? []) visit(dep);
    visiting.pop();
    done.add(name);
    order.push(name);
  };
  for (const name of [...dependsOn.keys()].sort()) visit(name);
  return order;
}

/** dependantsOf inverts the plan: for each atom, the atoms that depend on it. */
export function dependantsOf(plan: S6rcPlan): Map<string, string[]> {
  const out = new Map<string, string[]>(plan.order.map((n) => [n, []]));
  for (const name of plan.order) for (const d of plan.dependsOn.get(name) ?? []) out.get(d)?.push(name);
  return out;
}
