import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

const json = (status: number, message: string) => JSON.stringify({ statusCode: status, error: status === 404 ? 'Not Found' : 'Internal Server Error', message, error_description: message });

/**
 * Prometheus' metrics on a listener of their own (METRICS_HOST:METRICS_PORT, 127.0.0.1:9464 by
 * default), never on the public one: what they tell (routes, error rates, the services' state)
 * is for operators. GET /metrics answers the registry; anything else is 404.
 */
export async function startMetricsListener(registry: Registry, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(json(404, 'The metrics listener serves GET /metrics only'));
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(json(500, `Could not collect the metrics: ${e instanceof Error ? e.message : String(e)}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`The metrics listener cannot listen on ${host}:${port} (${e.code ?? e.message}): set METRICS_PORT to a free port (0: any) or METRICS_HOST to an address of this host`)),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
