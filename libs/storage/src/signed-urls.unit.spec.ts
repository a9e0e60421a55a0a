import { randomBytes } from 'node:crypto';
import { UrlSigner, parseSigningKeys } from './signed-urls';

const key = (id: string) => ({ id, secret: randomBytes(32) });
const NOW = 1_800_000_000;
const snapshot = { kind: 'snapshot', organizationId: 'org-a', id: 'snap-1', expiration: NOW + 300, version: 'v1' };

describe('signed URLs', () => {
  const k1 = key('k1');
  const signer = new UrlSigner([k1]);
  const signature = signer.sign(snapshot);

  it('verifies what it signed until it expires, and names its organization', () => {
    expect(signature).toMatch(/^k1\.org-a\.v1\.[A-Za-z0-9_-]{43}$/);
    expect(signer.verify('snapshot', 'snap-1', NOW + 300, signature, NOW)).toEqual({ ok: true, organizationId: 'org-a', version: 'v1' });
    expect(signer.verify('snapshot', 'snap-1', NOW + 300, signature, NOW + 300)).toEqual({ ok: false, why: 'expired' });
  });

  it('refuses anything changed: the id, the expiration, the kind, the organization, the version, the MAC, the key id', () => {
    const [, , , mac] = signature.split('.');
    const refused = [
      signer.verify('snapshot', 'snap-2', NOW + 300, signature, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 3000, signature, NOW),
      signer.verify('asset', 'snap-1', NOW + 300, signature, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `k1.org-b.v1.${mac}`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `k1.org-a.v2.${mac}`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `k1.org-a.${mac}`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `k1.org-a.v1.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `k9.org-a.v1.${mac}`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, `${signature}.x`, NOW),
      signer.verify('snapshot', 'snap-1', NOW + 300, '', NOW),
      signer.verify('snapshot', 'snap-1', Number.NaN, signature, NOW),
    ];
    expect(refused).toEqual(refused.map(() => ({ ok: false, why: 'invalid' })));
    // A tampered URL that is also expired is invalid, not expired: only a genuine one is told it expired.
    expect(signer.verify('snapshot', 'snap-2', NOW - 1, signature, NOW)).toEqual({ ok: false, why: 'invalid' });
  });

  it('rotates: a new key signs, the old one still verifies what it signed, and once dropped no longer does', () => {
    const k2 = key('k2');
    const rotated = new UrlSigner([k2, k1]);
    expect(rotated.sign(snapshot)).toMatch(/^k2\./);
    expect(rotated.verify('snapshot', 'snap-1', NOW + 300, signature, NOW)).toEqual({ ok: true, organizationId: 'org-a', version: 'v1' });
    expect(new UrlSigner([k2]).verify('snapshot', 'snap-1', NOW + 300, signature, NOW)).toEqual({ ok: false, why: 'invalid' });
  });

  it('reads SIGNED_URL_KEYS, refusing short secrets, bad ids, repeats and an empty list without quoting a secret', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(48).toString('base64');
    expect(parseSigningKeys(`new:${b}, old:${a}`).map((k) => [k.id, k.secret.length])).toEqual([
      ['new', 48],
      ['old', 32],
    ]);
    const short = randomBytes(16).toString('base64');
    expect(() => parseSigningKeys(`k:${short}`)).toThrow(/at least 32 bytes/);
    expect(() => parseSigningKeys(`k:${short}`)).not.toThrow(short);
    expect(() => parseSigningKeys(`bad id:${a}`)).toThrow(/item 1 must be <key id>:<secret, base64>/);
    expect(() => parseSigningKeys(`${a}`)).toThrow(/item 1/);
    expect(() => parseSigningKeys(`k:${a},k:${b}`)).toThrow(/names a key id twice/);
    expect(() => parseSigningKeys(' , ')).toThrow(/at least one key/);
  });
});
