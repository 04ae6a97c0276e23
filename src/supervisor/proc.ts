/**
 * proc: a process's children and state read from /proc (Linux), so the init needs no `ps`
 * (slim images lack procps). `/proc/<pid>/task/<tid>/children` lists the children of
 * each thread; together they are the process's children.
 */
import fs from 'node:fs';

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

/** processState is the one-letter state of `pid` (`R`, `S`, `Z` …), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) S …`: comm may hold spaces and parentheses, so read after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
}
