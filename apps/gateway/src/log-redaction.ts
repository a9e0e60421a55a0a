/**
 * What a log line must never carry: credentials. Browsers pass a WebSocket's bearer token in the
 * query (`access_token`, RFC 6750 §2.3), a client may put its OAuth2 parameters there by mistake
 * (`client_secret`, `refresh_token`, `code`, `password`), and headers carry tokens and cookies.
 */
export const REDACTED = '[Redacted]';

/** Query and body parameters whose value is a credential (compared without regard to case). */
export const CREDENTIAL_PARAMETERS: ReadonlySet<string> = new Set([
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'client_secret',
  'client_assertion',
  'assertion',
  'password',
  'code',
  'code_verifier',
]);

/** Headers whose value is a credential (the request's and the response's). */
export const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

const decodeName = (raw: string): string => {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase(); // a stray '%': compared as written
  }
};

/**
 * A request target with the value of every credential parameter of its query replaced by
 * `[Redacted]`: `/rtc-api/ws?userEndpointId=e&access_token=eyJ…` becomes
 * `/rtc-api/ws?userEndpointId=e&access_token=[Redacted]`. A name is recognised however it is
 * written (`Access_Token`, `access%5Ftoken`); every occurrence of a repeated one is redacted;
 * everything else is left exactly as it was.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return CREDENTIAL_PARAMETERS.has(decodeName(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${redacted}${hash < 0 ? '' : url.slice(hash)}`;
}

/** A copy of parsed parameters (a query object, a token request's body) with every credential's value replaced. */
export function redactParams<T>(params: T): T {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return params;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, CREDENTIAL_PARAMETERS.has(k.toLowerCase()) ? REDACTED : v])) as T;
}

/** A copy of headers with every credential header's value replaced. */
export function redactHeaders<T>(headers: T): T {
  if (typeof headers !== 'object' || headers === null) return headers;
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, (CREDENTIAL_HEADERS as readonly string[]).includes(k.toLowerCase()) ? REDACTED : v])) as T;
}

interface LoggedRequest {
  url?: string;
  query?: unknown;
  body?: unknown;
  headers?: unknown;
  [key: string]: unknown;
}

/** pino-http's request serializer: the request as logged, credentials redacted (its URL, query, body and headers). */
export function redactRequest(req: LoggedRequest): LoggedRequest {
  return {
    ...req,
    ...(typeof req.url === 'string' ? { url: redactQuery(req.url) } : {}),
    ...(req.query !== undefined ? { query: redactParams(req.query) } : {}),
    ...(req.body !== undefined ? { body: redactParams(req.body) } : {}),
    ...(req.headers !== undefined ? { headers: redactHeaders(req.headers) } : {}),
  };
}

/** pino-http's response serializer: its headers without a Set-Cookie. */
export function redactResponse(res: { headers?: unknown; [key: string]: unknown }): { headers?: unknown; [key: string]: unknown } {
  return res.headers !== undefined ? { ...res, headers: redactHeaders(res.headers) } : res;
}
