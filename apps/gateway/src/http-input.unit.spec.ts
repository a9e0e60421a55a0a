import { parseFormBody, parseJsonBody } from './http-input';

const body = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s);
const refusal = (b: Buffer) => {
  try {
    parseJsonBody(b);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('accepted');
};

describe('the gateway reads JSON bodies', () => {
  it('parses ordinary JSON', () => {
    expect(parseJsonBody(body('{"a":[1,"é",{"b":null}]}'))).toEqual({ a: [1, 'é', { b: null }] });
  });
  it.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /not valid UTF-8/],
    ['an empty body', body('  '), /empty/],
    ['nesting past the limit, before parsing', body(`${'['.repeat(5000)}${']'.repeat(5000)}`), /more than 32 deep/],
    ['invalid JSON', body('{"a": '), /not valid JSON/],
    ['a __proto__ key', body('{"__proto__": {"admin": true}}'), /not valid JSON/],
    ['a NUL in a string', body('{"a": "x\\u0000"}'), /a contains a NUL character/],
    ['a lone surrogate in a key', body('{"\\ud800": 1}'), /key .* unpaired UTF-16 surrogate/],
  ])('refuses %s with a 400 that says so', (_what, b, message) => {
    expect(refusal(b)).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(message) });
  });
  it('keeps error messages short whatever the input', () => {
    expect(refusal(body(`{"a": ${'x'.repeat(100_000)}}`)).message.length).toBeLessThan(300);
  });
  it('reads form bodies (the token endpoint) as UTF-8', () => {
    expect(parseFormBody(body('grant_type=client_credentials&client_id=a%20b+c'))).toEqual({ grant_type: 'client_credentials', client_id: 'a b c' });
    expect(() => parseFormBody(Buffer.from([0x61, 0x3d, 0xff]))).toThrow(/not valid UTF-8/);
  });
  it('refuses a form parameter given twice (RFC 6749 §3.2) instead of picking one', () => {
    expect(() => parseFormBody(body('grant_type=client_credentials&client_id=a&client_id=b'))).toThrow(/"client_id" is given more than once/);
    expect(parseFormBody(body('__proto__=x&constructor=y'))).toEqual({ ['__proto__']: 'x', constructor: 'y' });
  });
});
