import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RequestContext } from '@parley/contracts';
import { CallerAssertions, type CallerIdentity, callerIdentity, generateIdentityKeys, identityEnvironments, identitySettings } from './caller-assertion';
import { readSettings } from './settings';

const ctx: RequestContext = { actor: { userId: 'u-1', organizationId: 'org-a', roles: ['AGENT'] }, correlationId: 'c-1', causationId: 'k-1' };
const body = new TextEncoder().encode('{"pattern":"parley.conference.cmd.end","data":{"conferenceId":"x"},"id":"1"}');
const subject = 'parley.conference.cmd.end';

const identities = () => {
  const envs = identityEnvironments(['gateway', 'conference']);
  return {
    gateway: callerIdentity('gateway', readSettings(identitySettings, envs.gateway)),
    conference: callerIdentity('conference', readSettings(identitySettings, envs.conference)),
  };
};

describe('caller assertions', () => {
  let ids: { gateway: CallerIdentity; conference: CallerIdentity };
  let clock: number;
  let gateway: CallerAssertions;
  let conference: CallerAssertions;
  beforeEach(() => {
    ids = identities();
    clock = Date.parse('2026-11-29T12:00:00Z');
    gateway = new CallerAssertions(ids.gateway, () => clock);
    conference = new CallerAssertions(ids.conference, () => clock);
  });

  it('carries the caller and its correlation from the signer to the checker, saying who vouched', async () => {
    const actor = { ...ctx.actor, roles: ['SERVICE'], actsFor: ['org-b'] };
    const token = await gateway.sign({ ...ctx, actor }, subject, body);
    expect(await conference.verify(token, subject, body)).toEqual({ actor, correlationId: 'c-1', causationId: 'k-1', assertedBy: 'gateway' });
  });

  it("carries a client's transaction id, and refuses one that is not a transaction id", async () => {
    const token = await gateway.sign({ ...ctx, transactionId: 'tx-1' }, subject, body);
    expect(await conference.verify(token, subject, body)).toEqual({ ...ctx, transactionId: 'tx-1', assertedBy: 'gateway' });
    const forged = await gateway.sign({ ...ctx, transactionId: 'a b' }, subject, body);
    await expect(conference.verify(forged, subject, body)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /txn claim is not a transaction id/ });
  });

  it('refuses a missing one, one replayed, one for another subject or another message', async () => {
    await expect(conference.verify(undefined, subject, body)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /carries no Parley-Caller header/ });
    const token = await gateway.sign(ctx, subject, body);
    await conference.verify(token, subject, body);
    await expect(conference.verify(token, subject, body)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /replayed/ });
    const other = await gateway.sign(ctx, subject, body);
    await expect(conference.verify(other, 'parley.conference.cmd.create', body)).rejects.toMatchObject({ message: /made for another subject/ });
    await expect(conference.verify(other, subject, new TextEncoder().encode('{"pattern":"parley.conference.cmd.end","data":{"conferenceId":"y"},"id":"1"}'))).rejects.toMatchObject({
      message: /made for another message/,
    });
  });

  it('refuses one expired, and one that would live longer than it may', async () => {
    const token = await gateway.sign(ctx, subject, body);
    clock += 36_000;
    await expect(conference.verify(token, subject, body)).rejects.toMatchObject({ message: /expired/ });
    const now = Math.floor(clock / 1000);
    const longLived = await new SignJWT({ org: 'org-a', roles: ['ADMIN'], cid: 'c', cau: 'c', bh: 'x' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'gateway' })
      .setIssuer('gateway')
      .setSubject('u-1')
      .setAudience(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .setJti('j-1')
      .sign(ids.gateway.privateKey);
    await expect(conference.verify(longLived, subject, body)).rejects.toMatchObject({ message: /lives longer than 30 s/ });
  });

  it('refuses one forged: signed by a key nobody trusts, under a trusted name, or altered', async () => {
    const stranger = new CallerAssertions({ name: 'gateway', privateKey: createPrivateKey({ key: Buffer.from(generateIdentityKeys().privateKey, 'base64url'), format: 'der', type: 'pkcs8' }), trusted: new Map(), callers: new Set() }, () => clock);
    await expect(conference.verify(await stranger.sign(ctx, subject, body), subject, body)).rejects.toMatchObject({ message: /signature does not match/ });
    const nobody = new CallerAssertions({ ...ids.gateway, name: 'mallory' }, () => clock);
    await expect(conference.verify(await nobody.sign(ctx, subject, body), subject, body)).rejects.toMatchObject({ message: /"mallory", a process this one does not trust/ });
    const [header, payload, signature] = (await gateway.sign(ctx, subject, body)).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = Buffer.from(JSON.stringify({ ...claims, roles: ['ADMIN'] })).toString('base64url');
    await expect(conference.verify(`${header}.${altered}.${signature}`, subject, body)).rejects.toMatchObject({ message: /signature does not match/ });
    await expect(conference.verify('not-a-jws', subject, body)).rejects.toMatchObject({ message: /malformed/ });
  });

  it('refuses one from the future, one without a required claim, and one whose header names another algorithm', async () => {
    const now = Math.floor(clock / 1000);
    const jws = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'EdDSA', kid: 'gateway' }) =>
      new SignJWT({ org: 'org-a', roles: ['AGENT'], cid: 'c', cau: 'c', bh: 'x', ...claims }).setProtectedHeader(header as { alg: string }).sign(ids.gateway.privateKey);
    const full = { iss: 'gateway', sub: 'u-1', aud: subject, iat: now, exp: now + 30, jti: 'j-1' };
    await expect(conference.verify(await jws({ ...full, iat: now + 60, exp: now + 90 }), subject, body)).rejects.toMatchObject({ message: /"iat" claim is in the future/ });
    await expect(conference.verify(await jws({ ...full, jti: undefined }), subject, body)).rejects.toMatchObject({ message: /"jti" claim is missing/ });
    const [, payload, signature] = (await jws(full)).split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'gateway' })).toString('base64url');
    await expect(conference.verify(`${none}.${payload}.${signature}`, subject, body)).rejects.toMatchObject({ message: /malformed/ });
  });

  it('refuses one signed by a process it knows but that does not call it', async () => {
    const media = callerIdentity('media', readSettings(identitySettings, identityEnvironments(['media']).media));
    const fromMedia = new CallerAssertions({ ...ids.gateway, name: 'media', privateKey: media.privateKey }, () => clock);
    const knowsMedia = new CallerAssertions({ ...ids.conference, trusted: new Map([...ids.conference.trusted, ['media', createPublicKey(media.privateKey)]]) }, () => clock);
    await expect(knowsMedia.verify(await fromMedia.sign(ctx, subject, body), subject, body)).rejects.toMatchObject({ message: /media does not call conference/ });
  });

  it('past the assertions it may remember, refuses new ones (503) rather than forget one it has seen; once they expire, takes them again', async () => {
    const small = new CallerAssertions(ids.conference, () => clock, 2);
    await small.verify(await gateway.sign(ctx, subject, body), subject, body);
    await small.verify(await gateway.sign(ctx, subject, body), subject, body);
    const third = await gateway.sign(ctx, subject, body);
    await expect(small.verify(third, subject, body)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    clock += 36_000;
    await expect(small.verify(await gateway.sign(ctx, subject, body), subject, body)).resolves.toMatchObject({ assertedBy: 'gateway' });
  });

  it('keeps only Parley role names, and refuses a wildcard organization', async () => {
    const token = await gateway.sign({ ...ctx, actor: { ...ctx.actor, roles: ['AGENT', 'CUSTOMER,SERVICE'] } }, subject, body);
    expect((await conference.verify(token, subject, body)).actor.roles).toEqual(['AGENT']);
    const wildcard = await gateway.sign({ ...ctx, actor: { ...ctx.actor, organizationId: '>' } }, subject, body);
    await expect(conference.verify(wildcard, subject, body)).rejects.toMatchObject({ message: /organization is not an organization id/ });
  });

  it('will not start without a key or anyone to trust, and names the variable of a bad one', () => {
    expect(() => callerIdentity('media', readSettings(identitySettings, {}))).toThrow(/PARLEY_IDENTITY_KEY is not set/);
    const { PARLEY_IDENTITY_KEY } = identityEnvironments(['media']).media;
    expect(() => callerIdentity('media', readSettings(identitySettings, { PARLEY_IDENTITY_KEY }))).toThrow(/PARLEY_TRUSTED_KEYS is not set/);
    expect(() => readSettings(identitySettings, { PARLEY_IDENTITY_KEY: 'nope' })).toThrow(/PARLEY_IDENTITY_KEY must be an Ed25519 private key/);
    expect(() => readSettings(identitySettings, { PARLEY_TRUSTED_KEYS: 'gateway' })).toThrow(/entries must be name:publicKey/);
  });
});
