/**
 * Settings: every knob of every service is declared once, here or in its service definition,
 * with its environment variable, default, bounds and a sentence on what it does. The naming
 * scheme is one: UPPER_SNAKE environment variables; the platform's own settings are unprefixed
 * (NATS_URL, DATABASE_URL, DATA_DIR, LOG_LEVEL, ...), a quota is QUOTA_<WHAT>, a bound on calls
 * to another service is <TARGET>_TIMEOUT_MS, and anything else a service adds is <SERVICE>_<NAME>.
 *
 * A value that cannot be read stops the service at start, naming the variable; the values
 * read are reported in one log line when the service starts, secrets masked.
 */
export interface Setting<T> {
  readonly env: string;
  readonly doc: string;
  /** Masked in the start-up report (a URL keeps its scheme, host and path; its password is masked). */
  readonly secret?: boolean;
  /** The default, as the report and the README show it. */
  readonly defaultText: string;
  read(raw: string | undefined): T;
}

/** Settings grouped as the code wants them (nested groups allowed, e.g. `quotas`). */
export interface SettingsSpec {
  readonly [key: string]: Setting<unknown> | SettingsSpec;
}

export type SettingsOf<S extends SettingsSpec> = { -readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : S[K] extends SettingsSpec ? SettingsOf<S[K]> : never };

export class SettingError extends Error {
  override readonly name = 'SettingError';
}

const isSetting = (x: unknown): x is Setting<unknown> => typeof (x as Setting<unknown>)?.read === 'function';
const empty = (raw: string | undefined): raw is undefined => raw === undefined || raw.trim() === '';

/** An integer within [min, max]; the default when unset or empty. */
export function int(env: string, dflt: number, doc: string, bounds: { min?: number; max?: number } = {}): Setting<number> {
  const min = bounds.min ?? 1;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  return {
    env,
    doc,
    defaultText: String(dflt),
    read(raw) {
      if (empty(raw)) return dflt;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) {
        throw new SettingError(`${env} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}, got "${raw}"`);
      }
      return n;
    },
  };
}

/** A string; the default when unset or empty. */
export function text(env: string, dflt: string, doc: string, options: { secret?: boolean } = {}): Setting<string> {
  return { env, doc, secret: options.secret, defaultText: dflt, read: (raw) => (empty(raw) ? dflt : raw.trim()) };
}

/** A string that may be absent (undefined when unset or empty). */
export function optional(env: string, doc: string, options: { secret?: boolean } = {}): Setting<string | undefined> {
  return { env, doc, secret: options.secret, defaultText: '', read: (raw) => (empty(raw) ? undefined : raw.trim()) };
}

/** One of a fixed set of words. */
export function oneOf<const T extends string>(env: string, values: readonly T[], dflt: T, doc: string): Setting<T> {
  return {
    env,
    doc,
    defaultText: dflt,
    read(raw) {
      if (empty(raw)) return dflt;
      const v = raw.trim() as T;
      if (!values.includes(v)) throw new SettingError(`${env} must be one of ${values.join(', ')}, got "${raw}"`);
      return v;
    },
  };
}

/** Reads every setting of `spec` from `env`; the first that cannot be read throws a SettingError naming it. */
export function readSettings<S extends SettingsSpec>(spec: S, env: NodeJS.ProcessEnv = process.env): SettingsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) out[key] = isSetting(s) ? s.read(env[s.env]) : readSettings(s, env);
  return out as SettingsOf<S>;
}

/** Every setting of `spec`, flattened (for the report and the documentation). */
export function listSettings(spec: SettingsSpec): Array<Setting<unknown> & { path: string }> {
  const out: Array<Setting<unknown> & { path: string }> = [];
  const walk = (s: SettingsSpec, prefix: string) => {
    for (const [key, v] of Object.entries(s)) {
      if (isSetting(v)) out.push({ ...v, read: v.read, path: `${prefix}${key}` });
      else walk(v, `${prefix}${key}.`);
    }
  };
  walk(spec, '');
  return out;
}

/** A secret as the report shows it: a URL keeps what tells where it points, anything else is masked whole. */
export function mask(value: string): string {
  try {
    const url = new URL(value);
    if (url.host) {
      if (url.password) url.password = '****';
      for (const key of [...url.searchParams.keys()]) if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, '****');
      return url.toString();
    }
  } catch {
    /* not a URL */
  }
  return '****';
}

/** `ENV=value` for every setting, in declaration order, secrets masked, unset optional ones left out. */
export function reportSettings(spec: SettingsSpec, values: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const s of listSettings(spec)) {
    const v = s.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], values);
    if (v === undefined) continue;
    out[s.env] = s.secret ? mask(String(v)) : typeof v === 'number' ? v : String(v);
  }
  return out;
}

/** How long a process may take to close on SIGINT/SIGTERM before it exits anyway (every service and the gateway). */
export const stopTimeoutSetting = int('STOP_TIMEOUT_MS', 10_000, 'how long a service may take to close on SIGTERM before it exits anyway', { min: 100, max: 120_000 });
