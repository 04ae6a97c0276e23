import { describe, expect, it } from 'vitest';
import { dependantsOf, planTree, type S6rcNode, type S6rcType } from '../../src/supervisor/s6rc-graph.js';

/** tree builds nodes from `name: [type, dependencies, contents]`. */
function tree(spec: Record<string, [S6rcType, string[]?, string[]?]>): Map<string, S6rcNode> {
  return new Map(Object.entries(spec).map(([name, [type, dependencies = [], contents = []]]) => [name, { name, type, dependencies, contents }]));
}

describe('planTree', () => {
  it('orders atoms after their dependencies, bundles expanded, only what `user` reaches', () => {
    const nodes = tree({
      user: ['bundle', [], ['app', 'extras']],
      extras: ['bundle', [], ['cron']],
      app: ['longrun', ['prepare', 'base']],
      prepare: ['oneshot', ['db']],
      db: ['longrun'],
      cron: ['longrun', ['extras-deps']],
      'extras-deps': ['bundle', [], ['prepare']],
      unused: ['longrun', ['app']],
    });
    const plan = planTree(nodes, 'user', new Set(['base']));
    expect(plan.order).toEqual(['db', 'prepare', 'app', 'cron']);
    expect(Object.fromEntries(plan.dependsOn)).toEqual({ app: ['prepare'], prepare: ['db'], db: [], cron: ['prepare'] });
    expect(Object.fromEntries(dependantsOf(plan))).toEqual({ db: ['prepare'], prepare: ['app', 'cron'], app: [], cron: [] });
  });

  it('is empty without the top bundle', () => {
    expect(planTree(tree({ a: ['longrun'] }), 'user').order).toEqual([]);
  });

  it('names a dependency that is not a service, and who names it', () => {
    const nodes = tree({ user: ['bundle', [], ['app']], app: ['longrun', ['missing']] });
    expect(() => planTree(nodes, 'user')).toThrow('s6-rc.d/app: depends on or contains "missing", which is not a service');
  });

  it('names a dependency cycle', () => {
    const nodes = tree({ user: ['bundle', [], ['a']], a: ['oneshot', ['b']], b: ['longrun', ['c']], c: ['oneshot', ['a']] });
    expect(() => planTree(nodes, 'user')).toThrow(/dependency cycle: a -> b -> c -> a$/);
  });

  it('names a bundle that contains itself', () => {
    const nodes = tree({ user: ['bundle', [], ['x']], x: ['bundle', [], ['y']], y: ['bundle', [], ['x']] });
    expect(() => planTree(nodes, 'user')).toThrow('bundle contains itself: x -> y -> x');
  });
});
