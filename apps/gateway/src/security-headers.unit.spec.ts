import { HELMET_HEADERS, contentSecurityPolicy } from './security-headers';

const directives = (csp: string) => Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));

describe('the Content-Security-Policy', () => {
  it('allows scripts, styles and images from this origin only, no framing, and fetches and WebSockets to this host', () => {
    expect(directives(contentSecurityPolicy({ docs: false, host: 'rtc.example.com' }))).toEqual({
      'default-src': "'self'",
      'base-uri': "'none'",
      'object-src': "'none'",
      'frame-ancestors': "'none'",
      'form-action': "'self'",
      'script-src': "'self'",
      'script-src-attr': "'none'",
      'style-src': "'self'",
      'img-src': "'self'",
      'font-src': "'self'",
      'connect-src': "'self' ws://rtc.example.com wss://rtc.example.com",
    });
  });

  it("gives Swagger UI's page its inline styles and data: images, and nothing more", () => {
    const docs = directives(contentSecurityPolicy({ docs: true, host: '127.0.0.1:8080' }));
    expect(docs['style-src']).toBe("'self' 'unsafe-inline'");
    expect(docs['img-src']).toBe("'self' data:");
    expect(docs['script-src']).toBe("'self'");
    expect(docs['connect-src']).toBe("'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080");
  });

  it('writes a Host header into the policy only when it is a plain host name or address', () => {
    expect(directives(contentSecurityPolicy({ docs: false, host: '[::1]:8080' }))['connect-src']).toBe("'self' ws://[::1]:8080 wss://[::1]:8080");
    for (const host of [undefined, '', 'evil.example; script-src *', 'a b', 'x,y', 'host:port', "'unsafe-eval'"]) {
      expect(directives(contentSecurityPolicy({ docs: false, host }))['connect-src']).toBe("'self'");
    }
  });
});

describe("helmet's headers, worked out once", () => {
  it('deny framing and sniffing, send no referrer, isolate the origin; the policy and HSTS are left to each request', () => {
    expect(HELMET_HEADERS).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'x-dns-prefetch-control': 'off',
    });
    for (const left of ['content-security-policy', 'strict-transport-security', 'cross-origin-embedder-policy', 'x-powered-by']) expect(Object.keys(HELMET_HEADERS)).not.toContain(left);
  });
});
