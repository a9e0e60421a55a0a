import { REDACTED, redactHeaders, redactParams, redactQuery, redactRequest, redactResponse } from './log-redaction';

describe('redactQuery: no credential of a query string reaches a log line', () => {
  it.each(['access_token', 'client_secret', 'refresh_token', 'password', 'code', 'token', 'id_token', 'client_assertion', 'code_verifier'])('redacts %s and keeps the rest as written', (name) => {
    expect(redactQuery(`/rtc-api/ws?userEndpointId=ep-1&${name}=s3cr3t-value&v=2`)).toBe(`/rtc-api/ws?userEndpointId=ep-1&${name}=${REDACTED}&v=2`);
  });

  it('redacts first, last, repeated and empty occurrences', () => {
    expect(redactQuery('/x?access_token=a&b=1&access_token=c')).toBe(`/x?access_token=${REDACTED}&b=1&access_token=${REDACTED}`);
    expect(redactQuery('/x?token=')).toBe(`/x?token=${REDACTED}`);
    expect(redactQuery('/x?a=1&password')).toBe(`/x?a=1&password=${REDACTED}`);
  });

  it('recognises a name however it is written: any case, percent-encoded', () => {
    expect(redactQuery('/x?Access_Token=a&CLIENT_SECRET=b&access%5Ftoken=c&client%5fsecret=d')).toBe(
      `/x?Access_Token=${REDACTED}&CLIENT_SECRET=${REDACTED}&access%5Ftoken=${REDACTED}&client%5fsecret=${REDACTED}`,
    );
  });

  it('leaves URLs without credentials exactly as they are, even malformed ones', () => {
    for (const url of ['/health', '/x?', '/x?a=1&b=%zz', '/x?tokens=1&my_token=2&codes=3', '/x?%=1', '/a?b=c#frag']) expect(redactQuery(url)).toBe(url);
    expect(redactQuery('/x?a=%zz&code=%zz')).toBe(`/x?a=%zz&code=${REDACTED}`);
    expect(redactQuery('/x?code=1#code=2')).toBe(`/x?code=${REDACTED}#code=2`);
  });

  it('never lets a value through, whatever it holds', () => {
    const url = redactQuery('/x?access_token=a%26b%3Dc&client_secret=' + encodeURIComponent('p&ss=word?x'));
    expect(url).not.toMatch(/a%26b|p%26ss|word/);
  });
});

describe("the request and response serializers of the gateway's log", () => {
  it('redact the URL, the parsed query, a body and the credential headers', () => {
    const logged = redactRequest({
      id: 1,
      method: 'POST',
      url: '/rtc-api/oauth/token?client_secret=q',
      query: { client_secret: 'q', other: 'kept' },
      body: { grant_type: 'client_credentials', client_id: 'crm', client_secret: 'b', Password: 'p' },
      headers: { authorization: 'Basic Y3JtOmI=', Cookie: 'session=s', 'Proxy-Authorization': 'Bearer t', 'user-agent': 'ua' },
    });
    expect(logged).toEqual({
      id: 1,
      method: 'POST',
      url: `/rtc-api/oauth/token?client_secret=${REDACTED}`,
      query: { client_secret: REDACTED, other: 'kept' },
      body: { grant_type: 'client_credentials', client_id: 'crm', client_secret: REDACTED, Password: REDACTED },
      headers: { authorization: REDACTED, Cookie: REDACTED, 'Proxy-Authorization': REDACTED, 'user-agent': 'ua' },
    });
    expect(redactResponse({ statusCode: 200, headers: { 'set-cookie': 'a=b', 'content-type': 'x' } })).toEqual({ statusCode: 200, headers: { 'set-cookie': REDACTED, 'content-type': 'x' } });
  });

  it('leave what is not an object alone', () => {
    expect(redactParams('grant_type=x')).toBe('grant_type=x');
    expect(redactParams(undefined)).toBeUndefined();
    expect(redactHeaders(null)).toBeNull();
    expect(redactRequest({ method: 'GET' })).toEqual({ method: 'GET' });
  });
});
