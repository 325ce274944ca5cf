import type WebSocket from 'ws';
import { sniffImage } from '../image-type.ts';
import { backoffDelay } from '../timing.ts';

/** A message ComfyUI pushes on /ws (`server.py` send_json: `{ type, data }`). */
export interface ComfyMessage {
  type: string;
  data: Record<string, unknown>;
}

export interface ComfySocketOptions {
  /** ws:// or wss:// URL of /ws, with ?clientId=. */
  url: string;
  headers?: Record<string, string>;
  onMessage(message: ComfyMessage): void;
  onPreview(preview: { bytes: Uint8Array; mime: string }): void;
  /** Called when the socket drops for good (after its reconnects); the caller keeps polling history. */
  onLost?(reason: string): void;
  handshakeTimeoutMs?: number;
  /** Frames larger than this close the socket instead of filling memory. */
  maxPayloadBytes?: number;
  reconnects?: number;
}

/** `ws` is loaded by the first ComfyUI socket: a bot with no ComfyUI never holds it (~10 MiB of RSS). */
let wsClass: Promise<typeof WebSocket> | undefined;
const loadWs = (): Promise<typeof WebSocket> => (wsClass ??= import('ws').then((m) => m.default));

export interface ComfySocket {
  /** Resolves once connected, or rejects after the handshake timeout. */
  ready: Promise<void>;
  close(): void;
}

/** `server.py` BinaryEventTypes.PREVIEW_IMAGE; the next 4 bytes say JPEG (1) or PNG (2) (`send_image`). */
const PREVIEW_IMAGE = 1;

/**
 * Follows one client id's events. A dropped socket is reopened with the same client id (ComfyUI then
 * re-addresses that client's messages to it) a bounded number of times; history polling covers the gap.
 */
export function openComfySocket(o: ComfySocketOptions): ComfySocket {
  let closed = false;
  let ws: WebSocket | undefined;
  let attempts = 0;
  let firstOpen!: () => void;
  let firstFail!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    firstOpen = resolve;
    firstFail = reject;
  });
  ready.catch(() => undefined);
  let opened = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = () => {
    loadWs().then(open, (err: unknown) => firstFail(err instanceof Error ? err : new Error(String(err))));
  };
  const open = (WebSocketClass: typeof WebSocket) => {
    if (closed) return;
    const socket = new WebSocketClass(o.url, { headers: o.headers, handshakeTimeout: o.handshakeTimeoutMs ?? 10_000, maxPayload: o.maxPayloadBytes ?? 8 * 1024 * 1024 });
    ws = socket;
    socket.on('open', () => {
      attempts = 0;
      if (!opened) {
        opened = true;
        firstOpen();
      }
    });
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        if (buf.length < 8 || buf.readUInt32BE(0) !== PREVIEW_IMAGE) return;
        const bytes = new Uint8Array(buf.subarray(8));
        const mime = sniffImage(bytes);
        // The declared format (1 JPEG, 2 PNG) must match the bytes; anything else is not shown.
        const declared = buf.readUInt32BE(4) === 2 ? 'image/png' : 'image/jpeg';
        if (mime === declared) o.onPreview({ bytes, mime });
        return;
      }
      let msg: unknown;
      try {
        msg = JSON.parse(buf.toString('utf8'));
      } catch {
        return;
      }
      const m = msg as { type?: unknown; data?: unknown };
      if (typeof m.type === 'string' && m.data && typeof m.data === 'object') o.onMessage({ type: m.type, data: m.data as Record<string, unknown> });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (closed) return;
      if (!opened && attempts === 0) {
        firstFail(new Error('the ComfyUI websocket did not open'));
      }
      if (attempts >= (o.reconnects ?? 5)) {
        o.onLost?.('the websocket closed and did not come back');
        return;
      }
      attempts++;
      timer = setTimeout(connect, backoffDelay(attempts, 250, 4_000));
    });
  };
  connect();

  return {
    ready,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.removeAllListeners('close');
      ws?.on('error', () => undefined);
      ws?.terminate();
    },
  };
}
