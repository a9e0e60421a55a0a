/**
 * A service's process life: start it, tell a supervisor that started us with an IPC channel
 * (`npm start`, the tests) that it is ready, and close it cleanly on SIGINT/SIGTERM.
 */
export function runService(name: string, start: () => Promise<{ close(): Promise<void>; url?: string }>): void {
  start()
    .then((service) => {
      process.send?.({ ready: name, ...(service.url ? { url: service.url } : {}) });
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        service.close().then(
          () => process.exit(0),
          (e) => {
            console.error(e);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((e) => {
      console.error(`${name} could not start:`, e);
      process.exit(1);
    });
}
