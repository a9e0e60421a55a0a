import { envInt } from './env';

/**
 * A service's process life: start it, tell a supervisor that started us with an IPC channel
 * (`npm start`, the tests) that it is ready, and close it cleanly on SIGINT/SIGTERM; one whose
 * close does not finish within STOP_TIMEOUT_MS (10 s) exits anyway, with code 1.
 *
 * No exception or rejection that escapes a handler stops the service: each request's own errors
 * are answered by the error filters, and whatever still gets through (a failing callback of a
 * library, a rejected promise nobody awaited) is logged here and the service lives on.
 */
export function runService(name: string, start: () => Promise<{ close(): Promise<void>; url?: string }>): void {
  installLastResortHandlers(name);
  // How long a service may take to close on SIGINT/SIGTERM before it exits anyway.
  const stopTimeoutMs = envInt(process.env, 'STOP_TIMEOUT_MS', 10_000);
  start()
    .then((service) => {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        setTimeout(() => {
          console.error(`${name} did not close within ${stopTimeoutMs} ms; exiting`);
          process.exit(1);
        }, stopTimeoutMs).unref();
        service.close().then(
          () => process.exit(0),
          (e) => {
            console.error(e);
            process.exit(1);
          },
        );
      };
      // Listening before saying ready: a supervisor may signal the moment it hears it. A second
      // signal changes nothing (the close under way, or the timeout, ends the process).
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      process.send?.({ ready: name, ...(service.url ? { url: service.url } : {}) });
    })
    .catch((e) => {
      console.error(`${name} could not start:`, e);
      process.exit(1);
    });
}

/** Logs what would otherwise kill the process (one JSON line, as pino writes them) and keeps it running. */
export function installLastResortHandlers(service: string): void {
  const report = (kind: string) => (err: unknown) => {
    const e = err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : { message: String(err) };
    process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), service, msg: `${kind} caught by the last-resort handler; the service goes on`, err: e })}\n`);
  };
  process.on('uncaughtException', report('uncaught exception'));
  process.on('unhandledRejection', report('unhandled rejection'));
}
