import { ID_PATTERN, ParleyError } from '@parley/contracts';

/** A path parameter that names something by its id (letters, digits, "-" and "_", at most 128), else 400. */
export function idParam(value: string, name = 'id'): string {
  if (!ID_PATTERN.test(value)) throw new ParleyError('BAD_REQUEST', `${name} must be 1 to 128 letters, digits, "-" or "_"`, { fields: [name] });
  return value;
}

/** A query parameter that may be given once (`?v=1&v=2` is a 400). */
export function singleQuery(value: unknown, name: string): string | undefined {
  if (Array.isArray(value)) throw new ParleyError('BAD_REQUEST', `${name} may be given once`, { fields: [name] });
  return value === undefined ? undefined : String(value);
}

/** A list in the query: comma-separated, repeated, or both (`?ack=a,b&ack=c`). */
export function listQuery(value: unknown): string[] {
  if (value === undefined) return [];
  return [value].flat().flatMap((v) => String(v).split(',')).filter(Boolean);
}
