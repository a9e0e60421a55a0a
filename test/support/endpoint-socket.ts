import { WebSocket } from 'ws';
import { waitFor } from '@parley/testing';

export interface Delivery {
  id: string;
  qos: 0 | 1;
  event: Record<string, any>;
}

/** A client of /rtc-api/ws for one endpoint: collects what is pushed, acknowledges on request. */
export class EndpointSocket {
  readonly received: Delivery[] = [];
  closeCode?: number;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.received.push(JSON.parse(String(data)) as Delivery));
    ws.on('close', (code) => (this.closeCode = code));
  }

  /** Opens the socket and waits for the session's first frame; rejects with the HTTP status when the upgrade is refused. */
  static open(gatewayUrl: string, token: string, userEndpointId: string): Promise<EndpointSocket> {
    const url = `${gatewayUrl.replace(/^http/, 'ws')}/rtc-api/ws?userEndpointId=${encodeURIComponent(userEndpointId)}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const socket = new EndpointSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => void socket.next((d) => d.event.type === 'UserEndpointSessionOpenedEvent', 0, 'the session opened').then(() => resolve(socket), reject));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  /** The first delivery (from `from` on) whose event matches. */
  async next(match: (d: Delivery) => boolean, from = 0, description = 'a delivery'): Promise<Delivery> {
    return waitFor(() => this.received.slice(from).find(match), { description });
  }

  ack(...ids: string[]): void {
    this.ws.send(JSON.stringify({ ack: ids }));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}
