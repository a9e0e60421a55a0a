#!/usr/bin/env node
// Prints a development access token (just the token, one line) for calling the gateway:
//
//   npm run -s token -- --user u1 --org o1 --roles AGENT[,CUSTOMER] [--ttl 3600]
//   curl -H "Authorization: Bearer $(npm run -s token -- --user u1 --org o1 --roles AGENT)" ...
//
// (`-s` keeps npm's own "> parley@... token" banner out of stdout.) Signed with JWT_SECRET and
// JWT_ISSUER (and JWT_AUDIENCE when set) from the environment, defaulting like authConfigFromEnv.
//
// Runs with plain node, no build step, so it cannot import libs/auth (TypeScript). It therefore
// re-implements TokenIssuer.issue: the claims below MUST stay in step with
// libs/auth/src/token-issuer.ts, jwt-claims.ts and auth-config.ts (defaults, trimming, role names).
// libs/auth/src/token-script.unit.spec.ts runs this script and verifies its output with TokenVerifier.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { SignJWT } = require('jose');

// Same list as Roles in libs/contracts/src/actor.ts.
const ROLES = ['AGENT', 'CUSTOMER', 'SERVICE', 'ADMIN'];
const USAGE = 'usage: npm run -s token -- --user <userId> --org <organizationId> --roles ROLE[,ROLE...] [--ttl <seconds>]\n' + `roles: ${ROLES.join(', ')}`;

const fail = (message) => {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
};

/** Accepts `--name value` and `--name=value`. */
const parseArgs = (argv) => {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const m = /^--(user|org|roles|ttl)(?:=(.*))?$/.exec(arg);
    if (!m) fail(`unknown argument "${arg}"`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') fail(`--${m[1]} needs a value`);
    out[m[1]] = value;
  }
  return out;
};

// As in auth-config.ts: an empty variable counts as unset, and values are trimmed.
const read = (name) => {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
};

const positiveInt = (what, raw) => {
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) fail(`${what} must be a positive whole number of seconds, got "${raw}"`);
  return Number(raw);
};

const args = parseArgs(process.argv.slice(2));
if (!args.user) fail('--user is required');
if (!args.org) fail('--org is required');
if (!args.roles) fail('--roles is required');
const roles = args.roles
  .split(',')
  .map((r) => r.trim())
  .filter((r) => r.length > 0);
const unknown = roles.filter((r) => !ROLES.includes(r));
if (roles.length === 0) fail('--roles needs at least one role');
if (unknown.length > 0) fail(`unknown role(s) ${unknown.join(', ')}`);

const secret = read('JWT_SECRET') ?? 'parley-dev-secret-change-me';
const issuer = read('JWT_ISSUER') ?? 'parley';
const audience = read('JWT_AUDIENCE');
const envTtl = read('TOKEN_TTL_SECONDS');
const ttl = args.ttl ? positiveInt('--ttl', args.ttl) : envTtl ? positiveInt('TOKEN_TTL_SECONDS', envTtl) : 3600;

// Identical to TokenIssuer.issue: HS256, typ JWT, sub, organization_id, roles, iss, iat, exp, jti (+ aud).
const iat = Math.floor(Date.now() / 1000);
const jwt = new SignJWT({ organization_id: args.org, roles })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(args.user)
  .setIssuer(issuer)
  .setIssuedAt(iat)
  .setExpirationTime(iat + ttl)
  .setJti(randomUUID());
if (audience) jwt.setAudience(audience);

process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
