/**
 * verify: what a copy of the numbered writer's database must be — intact, and exactly the
 * whole transactions 1..N, each with its k rows.
 */
import Database from 'better-sqlite3';

/** Verdict is what a copy holds: N whole transactions, or the first problem found. */
export interface Verdict {
  transactions: number;
  problem?: string;
}

/** verifyNumbered opens `file` read-only and checks integrity, 1..N without gaps, and every transaction whole. */
export function verifyNumbered(file: string): Verdict {
  try {
    return verifyOpen(file);
  } catch (err) {
    return { transactions: 0, problem: `${file}: ${(err as Error).message}` };
  }
}

function verifyOpen(file: string): Verdict {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    if (integrity !== 'ok') return { transactions: 0, problem: `integrity_check: ${integrity}` };
    const hasTx = db.prepare("SELECT count(*) AS c FROM sqlite_master WHERE name = 'tx'").get() as { c: number };
    if (hasTx.c === 0) return { transactions: 0 };
    const { count, max } = db.prepare('SELECT count(*) AS count, coalesce(max(n), 0) AS max FROM tx').get() as { count: number; max: number };
    if (count !== max) return { transactions: count, problem: `transactions 1..${max} with ${max - count} missing` };
    const torn = db
      .prepare(
        'SELECT tx.n AS n, tx.k AS k, coalesce(c.got, 0) AS got FROM tx LEFT JOIN (SELECT n, count(*) AS got FROM t GROUP BY n) c ON c.n = tx.n WHERE coalesce(c.got, 0) != tx.k LIMIT 1',
      )
      .get() as { n: number; k: number; got: number } | undefined;
    if (torn) return { transactions: count, problem: `transaction ${torn.n} has ${torn.got} of its ${torn.k} rows` };
    const stray = db.prepare('SELECT count(*) AS c FROM t WHERE n > ?').get(max) as { c: number };
    if (stray.c > 0) return { transactions: count, problem: `${stray.c} rows of transactions past ${max}` };
    return { transactions: count };
  } finally {
    db.close();
  }
}
