import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign as edSign, verify as edVerify } from 'node:crypto';
import { type Actor, ID_PATTERN, ParleyError, type RequestContext, TRANSACTION_ID_PATTERN, isRole, problemWithJsonStrings } from '@parley/contracts';
import { type Msg, type MsgHdrs, headers as natsHeaders } from 'nats';
import { type Setting, SettingError } from './settings';

/**
 * Who is calling, as one service tells another over NATS: a compact JWS (EdDSA, Ed25519) in the
 * `Parley-Caller` header, signed by the process that sends the request with its own key, and
 * checked by the one that handles it against the keys it trusts (PARLEY_TRUSTED_KEYS) before any
 * handler runs. It is bound to one message: its audience is the subject, `bh` the SHA-256 of the
 * message's bytes, and it lives ASSERTION_TTL_SECONDS; a handler refuses one it has seen before.
 *
 * Claims: `iss` (the signing process, also the header's `kid`), `sub` (the user), `org`, `roles`,
 * `acts_for` (other organizations a SERVICE's client may act for), `cid`/`cau` (correlation and
 * causation ids), `txn` (the client's transaction id, when the gateway forwards one), `aud`, `bh`,
 * `iat`, `exp`, `jti`. The gateway signs for the users it
 * authenticated; a service that calls another on a user's behalf signs the same user as itself
 * (`iss` says who vouches); a service acting on its own behalf signs `sub` = `service:<name>`
 * with the role SERVICE (see serviceActor).
 */
export const CALLER_HEADER = 'Parley-Caller';
export const ASSERTION_TTL_SECONDS = 30;
/** Seconds the clocks of two processes may differ by. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** Assertions remembered for replay detection (the oldest go first past this). */
const REMEMBERED = 200_000;
const ALG = 'EdDSA';

/** This process's signing key, the keys it knows by process name, and the processes whose callers its handlers take. */
export interface CallerIdentity {
  name: string;
  privateKey: KeyObject;
  trusted: ReadonlyMap<string, KeyObject>;
  /** Whose signed callers its request handlers take (CALLERS); anyone else's are refused, however well signed. */
  callers: ReadonlySet<string>;
}

/** The operator's tools (projections, dead letters): their own key, taken only on the admin and replay subjects. */
export const OPERATOR = 'operator';

/**
 * Who may send requests to whom, by receiving process: the gateway for the users it
 * authenticated, a service on a user's behalf (the conference service asks the SFU and the
 * presence service), a service on its own (presence's verdicts to the conference service). A
 * process asked by no one (the gateway) has none. The operator is never among them: its key opens
 * only the admin and replay subjects (operatorHeaders, fromOperator).
 */
export const CALLERS: Readonly<Record<string, readonly string[]>> = {
  conference: ['gateway', 'presence'],
  presence: ['gateway', 'conference', 'snapshot'],
  interaction: ['gateway'],
  snapshot: ['gateway'],
  media: ['gateway', 'conference'],
  gateway: [],
};

/** What signs for a process that takes no requests of its own (the operator's tools): its key, nothing to check. */
export const signingOnly = (name: string, privateKey: KeyObject): CallerAssertions =>
  new CallerAssertions({ name, privateKey, trusted: new Map(), callers: new Set() });

/** The operator's caller: nobody's user, in no organization. */
export const operatorContext = (): RequestContext => ({ actor: { userId: OPERATOR, organizationId: '-', roles: [] }, correlationId: randomUUID(), causationId: randomUUID() });

/** The actor a service acts as when nobody asked it to (a timer, a consumer): `service:<name>`, role SERVICE. */
export const serviceActor = (name: string, organizationId: string): Actor => ({ userId: `service:${name}`, organizationId, roles: ['SERVICE'] });

/** A request a process makes on its own behalf and in no organization (its readiness, the gateway's health checks), with fresh correlation ids. */
export const serviceContext = (name: string): RequestContext => ({ actor: serviceActor(name, '-'), correlationId: randomUUID(), causationId: randomUUID() });

const b64 = (buf: Buffer): string => buf.toString('base64url');
const bodyHash = (body: Uint8Array): string => b64(createHash('sha256').update(body).digest());

/** A new Ed25519 key pair: the private key as base64url PKCS#8 DER, the public key as base64url raw bytes (a JWK's `x`). */
export function generateIdentityKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey: b64(privateKey.export({ type: 'pkcs8', format: 'der' })), publicKey: publicKey.export({ format: 'jwk' }).x as string };
}

/** PARLEY_TRUSTED_KEYS of these processes' keys: `name:publicKey`, comma-separated (what the setting reads). */
export const trustedKeysValue = (keys: Readonly<Record<string, { publicKey: string }>>): string =>
  Object.entries(keys)
    .map(([name, k]) => `${name}:${k.publicKey}`)
    .join(',');

/** The environment of each named process: its own key, and every process's public key to trust. */
export function identityEnvironments(names: readonly string[]): Record<string, { PARLEY_IDENTITY_KEY: string; PARLEY_TRUSTED_KEYS: string }> {
  const keys = Object.fromEntries(names.map((name) => [name, generateIdentityKeys()]));
  const trusted = trustedKeysValue(keys);
  return Object.fromEntries(names.map((name) => [name, { PARLEY_IDENTITY_KEY: keys[name].privateKey, PARLEY_TRUSTED_KEYS: trusted }]));
}

const privateKeySetting: Setting<KeyObject | undefined> = {
  env: 'PARLEY_IDENTITY_KEY',
  doc: "this process's Ed25519 private key (base64url PKCS#8), which signs the caller it names to other services (`npm run -s secrets` makes one)",
  secret: true,
  defaultText: '',
  read(raw) {
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      const key = createPrivateKey({ key: Buffer.from(raw.trim(), 'base64url'), format: 'der', type: 'pkcs8' });
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
      return key;
    } catch (e) {
      throw new SettingError(`PARLEY_IDENTITY_KEY must be an Ed25519 private key as base64url PKCS#8 DER (${(e as Error).message})`);
    }
  },
};

const trustedKeysSetting: Setting<ReadonlyMap<string, KeyObject>> = {
  env: 'PARLEY_TRUSTED_KEYS',
  doc: 'the processes whose signed callers this one believes: comma-separated name:publicKey (base64url Ed25519)',
  defaultText: '',
  read(raw) {
    const trusted = new Map<string, KeyObject>();
    for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
      const [name, x, ...rest] = entry.split(':');
      if (!name || !x || rest.length > 0 || !ID_PATTERN.test(name)) throw new SettingError(`PARLEY_TRUSTED_KEYS entries must be name:publicKey, got "${entry}"`);
      try {
        trusted.set(name, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
      } catch (e) {
        throw new SettingError(`PARLEY_TRUSTED_KEYS: the key of ${name} is not an Ed25519 public key (${(e as Error).message})`);
      }
    }
    return trusted;
  },
};

/** The two settings every process that speaks on the bus declares. */
export const identitySettings = { identityKey: privateKeySetting, trustedKeys: trustedKeysSetting };

/**
 * The identity of process `name` from its settings, taking the callers `callers` names (CALLERS
 * by default) and its own; refuses to go on without a key or anyone to trust.
 */
export function callerIdentity(
  name: string,
  settings: { identityKey: KeyObject | undefined; trustedKeys: ReadonlyMap<string, KeyObject> },
  callers: readonly string[] = CALLERS[name] ?? [],
): CallerIdentity {
  if (!settings.identityKey) throw new SettingError(`PARLEY_IDENTITY_KEY is not set: the ${name} process signs who calls other services with it (\`npm run -s secrets\` makes the keys)`);
  if (settings.trustedKeys.size === 0) throw new SettingError(`PARLEY_TRUSTED_KEYS is not set: the ${name} process believes no caller without it`);
  // And itself: a service asks itself whether its handlers listen before it says it is ready.
  return { name, privateKey: settings.identityKey, trusted: settings.trustedKeys, callers: new Set([...callers, name]) };
}

const refused = (why: string) => new ParleyError('UNAUTHORIZED', `caller assertion refused: ${why}`);

/** Signs the callers this process names, and checks the ones it is given. */
export class CallerAssertions {
  private readonly seen = new Map<string, number>();
  /** The protected header of every assertion this process signs. */
  private readonly header: string;

  constructor(
    readonly identity: CallerIdentity,
    private readonly now: () => number = Date.now,
    /** Unexpired assertions remembered at most (REMEMBERED; a test passes fewer). */
    private readonly remembered = REMEMBERED,
  ) {
    this.header = b64(Buffer.from(JSON.stringify({ alg: ALG, kid: identity.name })));
  }

  /**
   * The assertion of `ctx` for one message: `subject` with exactly `body`. A compact JWS (RFC 7515)
   * made with node:crypto's Ed25519 directly: a JOSE library spent four times as long on the same
   * bytes, and every request between processes pays this twice (docs in BENCHMARKS.md).
   */
  async sign(ctx: RequestContext, subject: string, body: Uint8Array): Promise<string> {
    const { actor } = ctx;
    const iat = Math.floor(this.now() / 1000);
    const claims: Claims = {
      org: actor.organizationId,
      roles: actor.roles,
      ...(actor.actsFor?.length ? { acts_for: actor.actsFor } : {}),
      cid: ctx.correlationId,
      cau: ctx.causationId,
      ...(ctx.transactionId !== undefined ? { txn: ctx.transactionId } : {}),
      bh: bodyHash(body),
      iss: this.identity.name,
      sub: actor.userId,
      aud: subject,
      iat,
      exp: iat + ASSERTION_TTL_SECONDS,
      jti: randomUUID(),
    };
    const input = `${this.header}.${b64(Buffer.from(JSON.stringify(claims)))}`;
    return `${input}.${b64(edSign(null, Buffer.from(input), this.identity.privateKey))}`;
  }

  /** The caller of a message on `subject` with `body`, vouched for by one of `from` (this process's callers by default), or UNAUTHORIZED saying why not. */
  async verify(token: string | undefined, subject: string, body: Uint8Array, from: ReadonlySet<string> = this.identity.callers): Promise<RequestContext & { assertedBy: string }> {
    if (!token) throw refused(`the request carries no ${CALLER_HEADER} header`);
    const parts = token.split('.');
    if (parts.length !== 3) throw refused('malformed');
    const header = parseJson(parts[0]);
    if (header?.alg !== ALG) throw refused('malformed');
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const key = kid ? this.identity.trusted.get(kid) : undefined;
    if (!kid || !key) throw refused(`signed by ${kid ? `"${kid}", a process this one does not trust` : 'an unnamed key'}`);
    if (!edVerify(null, Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'))) throw refused('the signature does not match');
    const payload = parseJson(parts[1]);
    if (!payload) throw refused('malformed');
    for (const claim of ['iss', 'sub', 'iat', 'exp', 'jti'] as const) if (payload[claim] === undefined) throw refused(`its "${claim}" claim is missing`);
    const { iat, exp } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number') throw refused('its "iat" and "exp" claims are not times');
    const now = this.now() / 1000;
    if (payload.aud !== subject) throw refused('made for another subject');
    if (exp <= now - CLOCK_TOLERANCE_SECONDS) throw refused('expired');
    if (iat > now + CLOCK_TOLERANCE_SECONDS) throw refused('its "iat" claim is in the future');
    if (payload.iss !== kid) throw refused('its issuer is not the key that signed it');
    if (!from.has(kid)) throw refused(`${kid} does not call ${this.identity.name} on ${subject}`);
    if (exp - iat > ASSERTION_TTL_SECONDS) throw refused(`it lives longer than ${ASSERTION_TTL_SECONDS} s`);
    if (payload.bh !== bodyHash(body)) throw refused('it was made for another message');
    if (typeof payload.jti !== 'string') throw refused('its "jti" claim is not an id');
    this.remember(`${kid}\u0000${payload.jti}`, exp * 1000);
    return { ...contextOf(payload), assertedBy: kid };
  }

  /**
   * An assertion (its issuer and jti) seen within its lifetime is a replay; forgotten once expired.
   * Past REMEMBERED unexpired ones (over 5,000 requests a second for 35 s), new ones are refused
   * rather than old ones forgotten: a replay must never get through because the process was busy.
   */
  private remember(key: string, expiresAt: number): void {
    const now = this.now();
    if (this.seen.has(key)) throw refused('replayed');
    if (this.seen.size >= this.remembered || this.seen.size % 1024 === 0) {
      for (const [id, until] of this.seen) {
        if (until + CLOCK_TOLERANCE_SECONDS * 1000 > now) break;
        this.seen.delete(id);
      }
      if (this.seen.size >= this.remembered) throw new ParleyError('UNAVAILABLE', `this process remembers ${this.remembered} recent callers already; try again in a few seconds`);
    }
    this.seen.set(key, expiresAt);
  }
}

/** The claims of an assertion (what sign writes; what verify reads is checked claim by claim). */
type Claims = Record<string, unknown>;

/** A base64url JSON object of a JWS, or undefined when it is not one. */
function parseJson(part: string): Claims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Claims) : undefined;
  } catch {
    return undefined;
  }
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function contextOf(p: Claims): RequestContext {
  const { sub, org, roles, cid, cau, txn } = p;
  const actsFor = p.acts_for;
  if (typeof sub !== 'string' || sub === '' || sub.length > 256 || problemWithJsonStrings(sub)) throw refused('its subject is not a user id');
  if (typeof org !== 'string' || !ID_PATTERN.test(org)) throw refused('its organization is not an organization id');
  if (!strings(roles)) throw refused('its roles are not a list of names');
  if (actsFor !== undefined && !(strings(actsFor) && actsFor.every((o) => ID_PATTERN.test(o)))) throw refused('acts_for is not a list of organization ids');
  if (typeof cid !== 'string' || typeof cau !== 'string') throw refused('it names no correlation and causation ids');
  if (txn !== undefined && !(typeof txn === 'string' && TRANSACTION_ID_PATTERN.test(txn))) throw refused('its txn claim is not a transaction id');
  return {
    actor: { userId: sub, organizationId: org, roles: roles.filter(isRole), ...(actsFor?.length ? { actsFor } : {}) },
    correlationId: cid,
    causationId: cau,
    ...(txn !== undefined ? { transactionId: txn } : {}),
  };
}

/**
 * Headers of a request only the operator may send (a projection rebuild, a dead letter's replay):
 * `base`'s (a dead letter keeps its own) with the operator's signed caller for `subject` and `body`.
 */
export async function operatorHeaders(operator: CallerAssertions, subject: string, body: Uint8Array, base?: MsgHdrs): Promise<MsgHdrs> {
  const h = natsHeaders();
  for (const key of base?.keys() ?? []) for (const value of base?.values(key) ?? []) h.append(key, value);
  h.set(CALLER_HEADER, await operator.sign(operatorContext(), subject, body));
  return h;
}

/** The receiving side of operatorHeaders: resolves when the operator signed this very message, else UNAUTHORIZED. */
export const fromOperator = (assertions: CallerAssertions, msg: Msg): Promise<unknown> =>
  assertions.verify(msg.headers?.get(CALLER_HEADER) || undefined, msg.subject, msg.data, new Set([OPERATOR]));
