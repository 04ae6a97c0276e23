/**
 * proc: a process's children, state and start time read from /proc (Linux), so the init
 * needs no `ps` (slim images lack procps), and a restore can tell whether the owner of a
 * leftover build directory still runs. `/proc/<pid>/task/<tid>/children` lists the children of
 * each thread; together they are the process's children.
 */
import { fs } from './builtin.js';

/** childrenOf lists the pids of `pid`'s children (empty when it is gone). */
export function childrenOf(pid: number | 'self'): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const w of text.split(/\s+/)) if (w) out.push(Number(w));
  }
  return out;
}

/** descendantsOf lists every descendant of `pid`, parents before their children. */
export function descendantsOf(pid: number | 'self'): number[] {
  const out: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...childrenOf(next));
  }
  return out;
}

/**
 * statFields reads `/proc/<pid>/stat` from field 3 (state) on, so `[19]` is field 22 (start
 * time); undefined when the process is gone. The command name (field 2) may hold spaces
 * and parentheses, so the fields are read after its last ')'.
 */
export function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).trimEnd().split(' ');
}

/** processState is the one-letter state of `pid` (`R`, `S`, `Z` …), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0] || undefined;
}
