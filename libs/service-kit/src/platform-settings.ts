import { identitySettings, int, natsCredentialSettings, oneOf, optional, stopTimeoutSetting, text } from '@parley/messaging';

/**
 * What a process may assume about where it runs: `production` (the default) refuses anything
 * insecure at start (a missing or weak secret, the public development secret); `development`
 * (what `npm start` and the tests set) allows the development defaults, loudly. See docs/security.md.
 */
export const PARLEY_MODES = ['production', 'development'] as const;
export type ParleyMode = (typeof PARLEY_MODES)[number];

/** The settings every service has, read and reported the same way by the kit. */
export const platformSettings = {
  mode: oneOf('PARLEY_MODE', PARLEY_MODES, 'production', 'production refuses to start with missing or weak secrets; development (npm start, the tests) allows the development defaults'),
  natsUrl: text('NATS_URL', 'nats://127.0.0.1:4222', 'one NATS URL, or several of a cluster separated by commas'),
  ...natsCredentialSettings,
  databaseUrl: optional('DATABASE_URL', 'PostgreSQL connection string of the service\'s event store; unset: PGlite embedded under DATA_DIR/<service>', { secret: true }),
  dataDir: text('DATA_DIR', '.data', 'where embedded PGlite databases live (one directory per service)'),
  logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'the lowest level logged'),
  logFormat: oneOf('LOG_FORMAT', ['json', 'pretty'], 'json', 'JSON lines, or readable lines for a terminal (npm start sets pretty when its output is one)'),
  relayPollMs: int('RELAY_POLL_MS', 250, 'how often the relay looks for events committed by other replicas (its own commits wake it at once)'),
  jetStreamReplicas: int('JETSTREAM_REPLICAS', 1, 'copies JetStream keeps of each Parley stream; must match the streams as they exist (3 on a cluster)', { min: 1, max: 5 }),
  stopTimeoutMs: stopTimeoutSetting,
  transactionRetentionMs: int('TRANSACTION_RETENTION_MS', 24 * 3600 * 1000, 'how long a command\'s answer is kept for retries with the same X-Auvious-TransactionId (default 24 h)', { min: 1000 }),
  faultCrashAfterCommit: optional('FAULT_CRASH_AFTER_COMMIT', 'crash tests only, refused in production: the command subject after whose commit the process kills itself before answering'),
  /** This process's key, and whom it believes, for the callers named on the bus (caller-assertion.ts). */
  ...identitySettings,
} as const;
