export interface BasicCredentials {
  id: string;
  secret: string;
}

/**
 * RFC 6749 2.3.1: the client id and secret are form-urlencoded before being joined with ':' and
 * base64-encoded, so a ':' or non-ASCII character inside them survives. '+' therefore means a space.
 */
const formDecode = (s: string): string | null => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null; // a stray '%' that is not an escape: malformed, not a password with a '%'
  }
};

/**
 * Parses `Authorization: Basic base64(id:secret)`. Returns null for anything else (no header,
 * another scheme, bad base64, no ':'), so the caller can answer invalid_client uniformly.
 */
export const parseBasicAuth = (header?: string): BasicCredentials | null => {
  if (typeof header !== 'string') return null;
  // The scheme name is case-insensitive (RFC 7235 2.1).
  const m = /^\s*basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const id = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (id === null || secret === null || id === '') return null;
  return { id, secret };
};
