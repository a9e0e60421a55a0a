import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Roles as AllRoles } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '../../../scripts/token.mjs');
const REPO = join(__dirname, '../../..');

/** Only the variables the script reads, so the developer's own environment cannot leak in. */
const script = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [SCRIPT, ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env } });

jest.setTimeout(20_000);

describe('scripts/token.mjs', () => {
  it('prints one token, and nothing else, that TokenVerifier accepts with the defaults', async () => {
    const { stdout, stderr } = await script(['--user', 'u1', '--org', 'o1', '--roles', 'AGENT,CUSTOMER']);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expect(new TokenVerifier(authConfigFromEnv({})).verify(stdout.trim())).resolves.toEqual({
      userId: 'u1',
      organizationId: 'o1',
      roles: ['AGENT', 'CUSTOMER'],
    });
  });

  it('signs with JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE from the environment and honours --ttl', async () => {
    const env = { JWT_SECRET: 'script-secret-0123456789abcdef', JWT_ISSUER: 'parley-test', JWT_AUDIENCE: 'api' };
    const { stdout } = await script(['--user=u2', '--org=o2', '--roles=ADMIN', '--ttl', '120'], env);
    const token = stdout.trim();
    await expect(new TokenVerifier(authConfigFromEnv(env)).verify(token)).resolves.toEqual({ userId: 'u2', organizationId: 'o2', roles: ['ADMIN'] });
    await expect(new TokenVerifier(authConfigFromEnv({})).verify(token)).rejects.toThrow(/signature/);
    const c = decodeJwt(token);
    expect((c.exp as number) - (c.iat as number)).toBe(120);
  });

  it('produces exactly the header and claim set of TokenIssuer', async () => {
    const env = { JWT_SECRET: 'script-secret-0123456789abcdef', JWT_AUDIENCE: 'api', TOKEN_TTL_SECONDS: '900' };
    const { stdout } = await script(['--user', 'u1', '--org', 'o1', '--roles', 'AGENT'], env);
    const fromScript = stdout.trim();
    const fromIssuer = (await new TokenIssuer(authConfigFromEnv(env)).issue({ userId: 'u1', organizationId: 'o1', roles: ['AGENT'] })).access_token;
    expect(decodeProtectedHeader(fromScript)).toEqual(decodeProtectedHeader(fromIssuer));
    const a = decodeJwt(fromScript);
    const b = decodeJwt(fromIssuer);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    const { iat: _ia, exp: ea, jti: _ja, ...restA } = a;
    const { iat: _ib, exp: eb, jti: _jb, ...restB } = b;
    expect(restA).toEqual(restB);
    expect((ea as number) - (a.iat as number)).toBe((eb as number) - (b.iat as number));
  });

  it('knows every role of the contracts', async () => {
    const { stdout } = await script(['--user', 'u1', '--org', 'o1', '--roles', AllRoles.join(',')]);
    await expect(new TokenVerifier(authConfigFromEnv({})).verify(stdout.trim())).resolves.toMatchObject({ roles: [...AllRoles] });
  });

  it.each([
    [['--org', 'o1', '--roles', 'AGENT'], /--user is required/],
    [['--user', 'u1', '--roles', 'AGENT'], /--org is required/],
    [['--user', 'u1', '--org', 'o1'], /--roles is required/],
    [['--user', 'u1', '--org', 'o1', '--roles', 'AGNET'], /unknown role\(s\) AGNET/],
    [['--user', 'u1', '--org', 'o1', '--roles', 'AGENT', '--ttl', '-5'], /--ttl must be a positive/],
    [['--user', 'u1', '--org', 'o1', '--roles', 'AGENT', '--bogus'], /unknown argument "--bogus"/],
  ])('fails with a usage message and exit code 2 for %j', async (args, message) => {
    const e = (await script(args).catch((x: unknown) => x)) as { code: number; stdout: string; stderr: string };
    expect(e.code).toBe(2);
    expect(e.stdout).toBe('');
    expect(e.stderr).toMatch(message);
    expect(e.stderr).toMatch(/usage:/);
  });
});
