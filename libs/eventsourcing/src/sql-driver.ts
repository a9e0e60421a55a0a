import type { SqlExecutor } from './types';

/**
 * What the shared SQL implementation needs from a database: run a statement, or run a
 * function in one transaction. node-postgres and PGlite differ only here.
 */
export interface SqlDriver extends SqlExecutor {
  /** BEGIN; fn; COMMIT — or ROLLBACK and rethrow when fn throws. */
  transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
}

/** True for PostgreSQL's unique_violation, from either driver (both expose the SQLSTATE as `code`). */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
