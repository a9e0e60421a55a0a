/**
 * An integer setting from the environment: `dflt` when unset or empty, else it must be an
 * integer within [min, max]; anything else stops the service at start with the variable's name.
 */
export function envInt(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}, got "${v}"`);
  }
  return n;
}
