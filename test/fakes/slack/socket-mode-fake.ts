import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface EnvelopeAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

/**
 * Slack's side of Socket Mode, small: the proxy answers `apps.connections.open` with this server's URL,
 * a connection is greeted with `hello`, and `send` delivers an envelope and resolves with the app's ack
 * (rejecting when none comes, as Slack would then retry and eventually show an error).
 */
export class SocketModeFake {
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  private readonly pending = new Map<string, (ack: EnvelopeAck) => void>();
  /** Every connection that was opened, to see reconnects. */
  connections = 0;
  url = '';

  async listen(): Promise<string> {
    this.http = createServer();
    this.wss = new WebSocketServer({ server: this.http, path: '/link' });
    this.wss.on('connection', (ws) => {
      this.connections++;
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('message', (data) => {
        let msg: EnvelopeAck;
        try {
          msg = JSON.parse(String(data)) as EnvelopeAck;
        } catch {
          return;
        }
        const resolve = this.pending.get(msg.envelope_id);
        if (resolve) {
          this.pending.delete(msg.envelope_id);
          resolve(msg);
        }
      });
      ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, debug_info: { host: 'fake-socket-mode', build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: 'A000000001' } }));
    });
    await new Promise<void>((r) => this.http!.listen(0, '127.0.0.1', () => r()));
    this.url = `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/link`;
    return this.url;
  }

  /** Resolves once a client is connected and greeted. */
  async connected(timeoutMs = 10_000, atLeast = 1): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.sockets.size === 0 || this.connections < atLeast) {
      if (Date.now() > end) throw new Error('no Socket Mode connection');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Delivers one envelope (`slash_commands`, `interactive`, `events_api`) and waits for its ack. */
  send(type: string, payload: Record<string, unknown>, timeoutMs = 3_000): Promise<EnvelopeAck> {
    // The newest open connection: after a reconnect or a restart the old one may linger a moment.
    const ws = [...this.sockets].reverse().find((x) => x.readyState === x.OPEN);
    if (!ws) return Promise.reject(new Error('no Socket Mode connection'));
    const envelope_id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(envelope_id);
        reject(new Error(`no ack for ${type} envelope within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(envelope_id, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api' }));
    });
  }

  /** Slack asks clients to reconnect (e.g. `refresh_requested` every few hours); they must come back. */
  requestReconnect(reason = 'refresh_requested'): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-socket-mode' } }));
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }
}
