import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Discord's gateway, just enough for a real discord.js Client: HELLO, IDENTIFY -> READY, heartbeats,
 * and dispatches. Frames are plain JSON: without zlib-sync installed discord.js asks for no compression.
 */
export class FakeGateway {
  url = '';
  readonly identified: { token: string; intents: number; shard?: [number, number] }[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  private seq = 0;
  private readyWaiters: (() => void)[] = [];

  constructor(
    private readonly applicationId: string,
    private readonly botToken: string,
  ) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws));
  }

  /** Resolves once a client has identified and received READY. */
  ready(): Promise<void> {
    if (this.identified.length && this.sockets.size) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  dispatch(t: string, d: unknown): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ op: 0, t, s: ++this.seq, d }));
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }

  private connected(ws: WebSocket): void {
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }));
    ws.on('message', (raw) => {
      let msg: { op: number; d: unknown };
      try {
        msg = JSON.parse(String(raw)) as { op: number; d: unknown };
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      switch (msg.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          break;
        case 2: {
          const d = msg.d as { token: string; intents: number; shard?: [number, number] };
          // Discord closes with 4010 on a shard id outside the count.
          if (d.shard && (d.shard[0] < 0 || d.shard[1] < 1 || d.shard[0] >= d.shard[1])) {
            ws.close(4010, 'Invalid shard.');
            return;
          }
          // Discord closes with 4004 on a wrong token.
          if (d.token !== this.botToken && d.token !== `Bot ${this.botToken}`) {
            ws.close(4004, 'Authentication failed.');
            return;
          }
          this.identified.push({ token: d.token, intents: d.intents, ...(d.shard ? { shard: d.shard } : {}) });
          this.sockets.add(ws);
          const ready = {
            v: 10,
            user: { id: this.applicationId, username: 'Atelier', discriminator: '0', global_name: null, avatar: null, bot: true, flags: 0 },
            guilds: [],
            session_id: 'fake-session',
            resume_gateway_url: this.url,
            shard: d.shard ?? [0, 1],
            application: { id: this.applicationId, flags: 0 },
          };
          ws.send(JSON.stringify({ op: 0, t: 'READY', s: ++this.seq, d: ready }));
          for (const w of this.readyWaiters.splice(0)) w();
          break;
        }
        default:
          break;
      }
    });
    ws.on('close', () => this.sockets.delete(ws));
  }
}
