import { ID_PATTERN, ParleyError } from '@parley/contracts';

/** Where the API's routes are: /rtc-api/…, as the spec's. */
export const API_PREFIX = 'rtc-api';

/** A path or query parameter that names something by its id (letters, digits, "-" and "_", at most 128), else 400 naming it. */
export function idParam(value: string, name = 'id'): string {
  if (!ID_PATTERN.test(value)) throw new ParleyError('BAD_REQUEST', `${name} must be 1 to 128 letters, digits, "-" or "_"`, { fields: [name] });
  return value;
}

/** A 400 naming the parameter or field at fault. */
export const badField = (field: string, message: string): ParleyError => new ParleyError('BAD_REQUEST', message, { fields: [field] });

/** A query parameter that names something by its id and must be given (once). */
export const idQuery = (value: unknown, name: string): string => idParam(singleQuery(value, name) ?? '', name);

/** A query parameter that names something by its id, when given (once). */
export function optionalIdQuery(value: unknown, name: string): string | undefined {
  const v = singleQuery(value, name);
  return v === undefined ? undefined : idParam(v, name);
}

/** A query parameter that may be given once (`?v=1&v=2` is a 400). */
export function singleQuery(value: unknown, name: string): string | undefined {
  if (Array.isArray(value)) throw new ParleyError('BAD_REQUEST', `${name} may be given once`, { fields: [name] });
  return value === undefined ? undefined : String(value);
}

/** An integer query parameter from `min` to `max`, `dflt` when absent or empty, else 400 naming it. */
export function intQuery(value: unknown, name: string, dflt: number, min: number, max: number): number {
  const v = singleQuery(value, name);
  if (v === undefined || v === '') return dflt;
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) throw new ParleyError('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`, { fields: [name] });
  return Number(v);
}

/** A list in the query: comma-separated, repeated, or both (`?ack=a,b&ack=c`). */
export function listQuery(value: unknown): string[] {
  if (value === undefined) return [];
  return [value].flat().flatMap((v) => String(v).split(',')).filter(Boolean);
}

/** A request's path, without its query. */
export const pathOf = (req: { url: string }): string => req.url.split('?')[0];

/**
 * The bearer token of a request: the Authorization header's, or for browsers, which cannot set
 * headers on a WebSocket, the query's `access_token` (RFC 6750 §2.3).
 */
export function bearerTokenOf(req: { headers: { authorization?: string }; query?: unknown }): string | undefined {
  const header = req.headers.authorization;
  const token = typeof header === 'string' && /^bearer\s/i.test(header) ? header.slice(7).trim() : (req.query as Record<string, unknown> | undefined)?.access_token;
  return typeof token === 'string' && token ? token : undefined;
}
