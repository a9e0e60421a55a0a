import { parseBasicAuth } from './basic-auth';

const basic = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('parseBasicAuth', () => {
  it('parses id and secret', () => {
    expect(parseBasicAuth(basic('integration:s3cret'))).toEqual({ id: 'integration', secret: 's3cret' });
  });

  it('accepts any case of the scheme and surrounding blanks', () => {
    expect(parseBasicAuth(`  bAsIc   ${Buffer.from('a:b').toString('base64')} `)).toEqual({ id: 'a', secret: 'b' });
  });

  it('form-url-decodes id and secret (RFC 6749 2.3.1)', () => {
    expect(parseBasicAuth(basic('my%3Aclient:p%40ss%3Aword+with%20spaces'))).toEqual({ id: 'my:client', secret: 'p@ss:word with spaces' });
    expect(parseBasicAuth(basic('caf%C3%A9:x'))).toEqual({ id: 'café', secret: 'x' });
  });

  it('splits at the first ":" so the secret may contain more', () => {
    expect(parseBasicAuth(basic('id:a:b'))).toEqual({ id: 'id', secret: 'a:b' });
  });

  it('allows an empty secret (the issuer then rejects it)', () => {
    expect(parseBasicAuth(basic('id:'))).toEqual({ id: 'id', secret: '' });
  });

  it.each([
    [undefined],
    [''],
    ['Bearer abc.def.ghi'],
    ['Basic'],
    ['Basic !!!not-base64!!!'],
    [basic('no-colon')],
    [basic(':secret-without-id')],
    [basic('bad%zzescape:x')],
  ])('returns null for %p', (header) => {
    expect(parseBasicAuth(header)).toBeNull();
  });
});
