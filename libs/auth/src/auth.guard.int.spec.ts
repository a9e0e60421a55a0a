import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import type { Actor } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { AuthGuard } from './auth.guard';
import { AuthModule } from './auth.module';
import { CurrentActor, Public, Roles } from './decorators';
import { TokenIssuer } from './token-issuer';

jest.setTimeout(30_000);

const config = authConfigFromEnv({ JWT_SECRET: 'guard-test-secret-0123456789abcdef' });

@Controller('me')
class MeController {
  @Get()
  me(@CurrentActor() actor: Actor) {
    return actor;
  }

  @Get('agent')
  @Roles('AGENT', 'ADMIN')
  agentOnly(@CurrentActor() actor: Actor) {
    return { ok: true, userId: actor.userId };
  }

  @Get('open')
  @Public()
  open(@CurrentActor() actor?: Actor) {
    return { open: true, userId: actor?.userId ?? null };
  }
}

/** Class-level @Roles, with one handler overriding it. */
@Controller('admin')
@Roles('ADMIN')
class AdminController {
  @Get()
  admin() {
    return { admin: true };
  }

  @Get('customers-too')
  @Roles('CUSTOMER')
  customersToo() {
    return { customers: true };
  }
}

@Module({
  imports: [AuthModule.forRoot(config)],
  controllers: [MeController, AdminController],
  providers: [{ provide: APP_GUARD, useExisting: AuthGuard }],
})
class TestAppModule {}

describe('AuthGuard in a Nest + Fastify app', () => {
  let app: NestFastifyApplication;
  let base: string;
  let issuer: TokenIssuer;
  const token = async (roles: string[]) => (await issuer.issue({ userId: 'u1', organizationId: 'o1', roles })).access_token;
  const message = async (res: Response) => ((await res.json()) as { message: string }).message;
  const get = (path: string, authorization?: string) => fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(TestAppModule, new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    issuer = app.get(TokenIssuer);
  });
  afterAll(() => app?.close());

  it('answers 401 with a clear message and a Bearer challenge without a token', async () => {
    const res = await get('/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="parley"');
    expect(await res.json()).toMatchObject({ statusCode: 401, message: expect.stringMatching(/Missing access token/) });
  });

  it('answers 401 for a bad token', async () => {
    const res = await get('/me', 'Bearer not.a.token');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="parley", error="invalid_token", error_description="Access token is malformed/);
    expect((await message(res))).toMatch(/malformed/);
  });

  it('answers 401 for a token signed with another secret', async () => {
    const forged = await new SignJWT({ sub: 'u1', organization_id: 'o1', roles: ['ADMIN'], iss: 'parley' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('parley-dev-secret-change-me'));
    const res = await get('/me', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect((await message(res))).toMatch(/signature is invalid/);
  });

  it('answers 401 for an expired token', async () => {
    const old = new TokenIssuer(config, { now: () => new Date(Date.now() - 7200_000) });
    const { access_token } = await old.issue({ userId: 'u1', organizationId: 'o1', roles: ['AGENT'], ttlSeconds: 60 });
    const res = await get('/me', `Bearer ${access_token}`);
    expect(res.status).toBe(401);
    expect((await message(res))).toMatch(/expired/);
  });

  it('answers 401 for another scheme', async () => {
    const res = await get('/me', `Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(res.status).toBe(401);
    expect((await message(res))).toMatch(/Bearer <access token>/);
  });

  it('answers 200 with the actor for a valid token (scheme case-insensitive)', async () => {
    const res = await get('/me', `bearer ${await token(['CUSTOMER'])}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: 'u1', organizationId: 'o1', roles: ['CUSTOMER'] });
  });

  it('answers 403 without any of the required roles', async () => {
    const res = await get('/me/agent', `Bearer ${await token(['CUSTOMER'])}`);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect((await message(res))).toMatch(/requires one of the roles AGENT, ADMIN/);
  });

  it('answers 200 when any one required role is held', async () => {
    for (const roles of [['AGENT'], ['ADMIN'], ['CUSTOMER', 'AGENT']]) {
      const res = await get('/me/agent', `Bearer ${await token(roles)}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, userId: 'u1' });
    }
  });

  it('applies class-level @Roles, and a handler @Roles overrides it', async () => {
    expect((await get('/admin', `Bearer ${await token(['CUSTOMER'])}`)).status).toBe(403);
    expect((await get('/admin', `Bearer ${await token(['ADMIN'])}`)).status).toBe(200);
    expect((await get('/admin/customers-too', `Bearer ${await token(['CUSTOMER'])}`)).status).toBe(200);
    expect((await get('/admin/customers-too', `Bearer ${await token(['ADMIN'])}`)).status).toBe(403);
  });

  it('leaves a @Public route open, and still identifies a caller who sends a valid token', async () => {
    const anon = await get('/me/open');
    expect(anon.status).toBe(200);
    expect(await anon.json()).toEqual({ open: true, userId: null });
    const bad = await get('/me/open', 'Bearer garbage');
    expect(bad.status).toBe(200);
    expect(await bad.json()).toEqual({ open: true, userId: null });
    const known = await get('/me/open', `Bearer ${await token([])}`);
    expect(await known.json()).toEqual({ open: true, userId: 'u1' });
  });
});
