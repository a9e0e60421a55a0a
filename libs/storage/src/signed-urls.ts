import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Parley's own signed URLs (`GET /…/signed/{id}/{expiration}?signature=`): what a browser
 * downloads a snapshot, a transferred file or an asset with, without a bearer token. The
 * signature is an HMAC-SHA256 over what the URL names (the kind of thing, its organization, its
 * id, the version of its file) and its expiration, with a key of `SIGNED_URL_KEYS`: the first key signs, every key
 * verifies, so a key is rotated by putting a new one first and dropping the old one once the
 * longest-lived URL it signed has expired.
 *
 * A signature reads `<key id>.<organization id>.<version>.<mac>`: the organization is part of what
 * is signed (an id is unique only within its organization), the version names the very file the
 * URL was made for (an asset replaced under the same id is another file: its old URLs do not open
 * the new one), the key id says which key to check with.
 */
export interface SigningKey {
  /** Letters, digits, '-' and '_' (it is part of the signature). */
  id: string;
  /** At least 32 bytes. */
  secret: Buffer;
}

/** What a signed URL names. */
export interface SignedResource {
  /** The kind of thing (`snapshot`, `filetransfer`, `asset`): a signature for one kind is no signature for another. */
  kind: string;
  organizationId: string;
  id: string;
  /** Seconds since the epoch. */
  expiration: number;
  /** Which file of the thing (its blob's own name): letters, digits, '-' and '_'. */
  version: string;
}

export type Verdict = { ok: true; organizationId: string; version: string } | { ok: false; why: 'expired' | 'invalid' };

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const ORGANIZATION = /^[A-Za-z0-9_-]{1,128}$/;
const VERSION = /^[A-Za-z0-9_-]{1,128}$/;
export const SIGNING_KEY_MIN_BYTES = 32;

/**
 * Reads `SIGNED_URL_KEYS`: `<key id>:<secret, base64>` items separated by commas, the signing key
 * first. Throws naming what is wrong (the secrets are never quoted).
 */
export function parseSigningKeys(text: string): SigningKey[] {
  const keys = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item, i) => {
      const colon = item.indexOf(':');
      const id = colon > 0 ? item.slice(0, colon) : '';
      if (!KEY_ID.test(id)) throw new Error(`SIGNED_URL_KEYS item ${i + 1} must be <key id>:<secret, base64>, the key id 1 to 32 letters, digits, "-" or "_"`);
      const secret = Buffer.from(item.slice(colon + 1), 'base64');
      if (secret.length < SIGNING_KEY_MIN_BYTES) throw new Error(`SIGNED_URL_KEYS key ${id}: the secret must be at least ${SIGNING_KEY_MIN_BYTES} bytes (base64)`);
      return { id, secret };
    });
  if (keys.length === 0) throw new Error('SIGNED_URL_KEYS must hold at least one key');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('SIGNED_URL_KEYS names a key id twice');
  return keys;
}

export class UrlSigner {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly SigningKey[]) {
    if (keys.length === 0) throw new Error('a UrlSigner needs a key');
    for (const k of keys) if (!KEY_ID.test(k.id) || k.secret.length < SIGNING_KEY_MIN_BYTES) throw new Error(`signing key ${k.id}: an id of letters, digits, "-", "_" and at least ${SIGNING_KEY_MIN_BYTES} bytes`);
    this.byId = new Map(keys.map((k) => [k.id, k.secret]));
  }

  private static mac(secret: Buffer, r: SignedResource): Buffer {
    return createHmac('sha256', secret).update([r.kind, r.organizationId, r.id, String(r.expiration), r.version].join('\n')).digest();
  }

  /** The signature of `r` with the signing key (the first). */
  sign(r: SignedResource): string {
    if (!ORGANIZATION.test(r.organizationId) || !VERSION.test(r.version)) throw new Error('an organization id and a version of letters, digits, "-" and "_"');
    const key = this.keys[0];
    return `${key.id}.${r.organizationId}.${r.version}.${UrlSigner.mac(key.secret, r).toString('base64url')}`;
  }

  /**
   * Whether `signature` signs `kind`, `id` and `expiration` with one of the keys, and the
   * expiration is not past at `nowSeconds`; the organization and the version it names when it does
   * (the caller checks the version is the thing's file still). Checks the MAC before the time, so
   * an expired URL is told apart only when it is genuine.
   */
  verify(kind: string, id: string, expiration: number, signature: string, nowSeconds: number): Verdict {
    const [keyId, organizationId, version, mac, ...rest] = signature.split('.');
    const secret = keyId === undefined ? undefined : this.byId.get(keyId);
    if (!secret || !organizationId || !ORGANIZATION.test(organizationId) || !version || !VERSION.test(version) || !mac || rest.length > 0 || !Number.isSafeInteger(expiration)) {
      return { ok: false, why: 'invalid' };
    }
    const given = Buffer.from(mac, 'base64url');
    const expected = UrlSigner.mac(secret, { kind, organizationId, id, expiration, version });
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'invalid' };
    if (expiration <= nowSeconds) return { ok: false, why: 'expired' };
    return { ok: true, organizationId, version };
  }
}
