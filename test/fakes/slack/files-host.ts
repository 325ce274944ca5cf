import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Slack file object as Slack hands it to an app: in a `file_input`'s view state, in a message's `files`
 * (a message shortcut's payload carries the whole message). Fields as in the captured view_submission
 * payload in talosgh/omega-slackbot:tmp.py and @slack/bolt's `UploadedFile` type
 * (dist/types/view/index.d.ts): id, name, title, mimetype, filetype, size, url_private, url_private_download,
 * user, user_team, permalink...
 */
export interface SlackFileObject {
  id: string;
  created: number;
  timestamp: number;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  pretty_type: string;
  user: string;
  user_team: string;
  editable: boolean;
  size: number;
  mode: 'hosted';
  is_external: boolean;
  external_type: string;
  is_public: boolean;
  public_url_shared: boolean;
  display_as_bot: boolean;
  username: string;
  url_private: string;
  url_private_download: string;
  permalink: string;
  channels: string[];
  groups: string[];
  ims: string[];
  shares: Record<string, never>;
  comments_count: number;
  has_rich_preview: boolean;
  file_access: 'visible';
}

export interface FileRequest {
  path: string;
  /** The Authorization header as it arrived (tests check the bot token goes here and nowhere else). */
  authorization?: string;
  status: number;
}

// By extension, as emulate@0.12.2's `mimeTypeFor` does (the Slack docs do not say how Slack decides; the
// captured payload shows `filetype` as the bare extension).
const TYPES: Record<string, { mime: string; pretty: string }> = {
  png: { mime: 'image/png', pretty: 'PNG' },
  jpg: { mime: 'image/jpeg', pretty: 'JPEG' },
  jpeg: { mime: 'image/jpeg', pretty: 'JPEG' },
  gif: { mime: 'image/gif', pretty: 'GIF' },
  webp: { mime: 'image/webp', pretty: 'WebP' },
  pdf: { mime: 'application/pdf', pretty: 'PDF' },
  txt: { mime: 'text/plain', pretty: 'Plain Text' },
};

/**
 * Slack's file host (files.slack.com) on loopback. Rules and their sources:
 * - `url_private` / `url_private_download` answer only with `Authorization: Bearer <token>` of a token with
 *   `files:read` (Slack's file object docs, "Authentication": api.slack.com/types/file#auth, quoted by Slack
 *   staff in slackapi/bolt-js#2585; emulate@0.12.2 serves `/files-pri/:id/:name` behind the same check).
 * - Without a valid token Slack does not answer 401: it redirects ("Found") to the workspace's sign-in page,
 *   which is HTML with status 200 (slackapi/node-slack-sdk#1750, chenhg5/cc-connect#204,
 *   grundleborg/slack-advanced-exporter#13). emulate@0.12.2 answers 401 `not_authed` instead: the sources
 *   disagree, and this fake follows what apps meet on the real host, so a fetcher that forgets the token
 *   gets a page that is not a picture.
 * - Paths are `/files-pri/<team>-<file id>/<name>` and `/files-pri/<team>-<file id>/download/<name>`
 *   (both in the captured payload above).
 */
export class SlackFilesHost {
  readonly requests: FileRequest[] = [];
  private readonly files = new Map<string, { object: SlackFileObject; bytes: Uint8Array }>();
  private server: Server | undefined;
  url = '';
  /** Where a file's GET is sent instead (a redirect test); keyed by file id. */
  readonly redirects = new Map<string, string>();

  constructor(
    private readonly tokens: ReadonlySet<string>,
    private readonly teamId: () => string,
  ) {}

  async listen(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** A file a user uploaded (through a modal's file input or into a message), as Slack would describe it. */
  add(user: string, file: { name: string; bytes: Uint8Array }): SlackFileObject {
    const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
    const ext = file.name.includes('.') ? file.name.split('.').pop()!.toLowerCase() : '';
    const type = TYPES[ext] ?? { mime: 'application/octet-stream', pretty: 'Binary' };
    const team = this.teamId();
    const safe = encodeURIComponent(file.name.toLowerCase().replace(/\s+/g, '_'));
    const now = Math.floor(Date.now() / 1000);
    const object: SlackFileObject = {
      id,
      created: now,
      timestamp: now,
      name: file.name,
      title: file.name,
      mimetype: type.mime,
      filetype: ext || 'binary',
      pretty_type: type.pretty,
      user,
      user_team: team,
      editable: false,
      size: file.bytes.byteLength,
      mode: 'hosted',
      is_external: false,
      external_type: '',
      is_public: false,
      public_url_shared: false,
      display_as_bot: false,
      username: '',
      url_private: `${this.url}/files-pri/${team}-${id}/${safe}`,
      url_private_download: `${this.url}/files-pri/${team}-${id}/download/${safe}`,
      permalink: `${this.url}/files/${user}/${id}/${safe}`,
      channels: [],
      groups: [],
      ims: [],
      shares: {},
      comments_count: 0,
      has_rich_preview: false,
      file_access: 'visible',
    };
    this.files.set(id, { object, bytes: file.bytes });
    return object;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const answer = (status: number, headers: Record<string, string>, body: Uint8Array | string) => {
      this.requests.push({ path, status, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      res.writeHead(status, headers);
      res.end(body);
    };
    if (path === '/' || path === '/signin') {
      answer(200, { 'content-type': 'text/html; charset=utf-8' }, '<!DOCTYPE html><html lang="en-US"><head><title>Sign in | Slack</title></head><body>Sign in to your workspace</body></html>');
      return;
    }
    const m = /^\/files-pri\/[A-Z0-9]+-(F[A-Z0-9]+)\/(?:download\/)?[^/]+$/.exec(path);
    const stored = m ? this.files.get(m[1]!) : undefined;
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) {
      answer(302, { location: `/?redir=${encodeURIComponent(path)}`, 'content-type': 'text/html' }, `<a href="/?redir=${encodeURIComponent(path)}">Found</a>.`);
      return;
    }
    if (!stored || req.method !== 'GET') {
      answer(404, { 'content-type': 'text/plain' }, 'file_not_found');
      return;
    }
    const elsewhere = this.redirects.get(stored.object.id);
    if (elsewhere) {
      answer(302, { location: elsewhere }, '');
      return;
    }
    answer(200, { 'content-type': stored.object.mimetype, 'content-length': String(stored.bytes.byteLength) }, stored.bytes);
  }
}
