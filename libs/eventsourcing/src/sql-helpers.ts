/**
 * The values of a query built clause by clause: `add` keeps a value and answers its placeholder
 * (`$n`), so a clause and its value are written together and the numbering never drifts.
 */
export class QueryParams {
  readonly values: unknown[];

  constructor(...values: unknown[]) {
    this.values = values;
  }

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A jsonb column's value: node-postgres and PGlite parse it, a text cast does not. */
export const jsonColumn = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
