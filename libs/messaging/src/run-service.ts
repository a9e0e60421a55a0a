import { readSettings, stopTimeoutSetting } from './settings';

/**
 * A service's process life: start it, tell a supervisor that started us with an IPC channel
 * (`npm start`, the tests) that it is ready, and close it cleanly on SIGINT/SIGTERM. The signal
 * handlers are there from the first moment (a signal while it starts stops it too), and a close
 * that does not finish within STOP_TIMEOUT_MS (10 s) ends the process anyway, with code 1:
 * whatever state NATS or the database is in, the process is gone within that bound.
 *
 * No exception or rejection that escapes a handler stops the service: each request's own errors
 * are answered by the error filters, and whatever still gets through (a failing callback of a
 * library, a rejected promise nobody awaited) is logged here and the service lives on.
 */
export function runService(name: string, start: () => Promise<{ close(): Promise<void>; url?: string; metricsUrl?: string }>): void {
  installLastResortHandlers(name);
  let stopTimeoutMs: number;
  try {
    stopTimeoutMs = readSettings({ stopTimeoutMs: stopTimeoutSetting }).stopTimeoutMs;
  } catch (e) {
    console.error(`${name} could not start: ${e instanceof Error ? e.message : String(e)}`);
    return process.exit(1);
  }
  let close: (() => Promise<void>) | undefined;
  let stopping = false;
  const finish = (closing: Promise<void>) =>
    closing.then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  const stop = () => {
    if (stopping) return; // a second signal changes nothing: the close under way, or the timeout, ends the process
    stopping = true;
    setTimeout(() => {
      console.error(`${name} did not close within ${stopTimeoutMs} ms; exiting`);
      process.exit(1);
    }, stopTimeoutMs).unref();
    if (close) void finish(close()); // else it is still starting, and closes the moment it has started
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  start()
    .then((service) => {
      close = () => service.close();
      if (stopping) return void finish(close());
      process.send?.({ ready: name, ...(service.url ? { url: service.url } : {}), ...(service.metricsUrl ? { metricsUrl: service.metricsUrl } : {}) });
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
