import type { PlatformContext, RunningPlatform } from '../context.ts';
import type { RawRequest, RawResponse, RouteHandler } from '../../server.ts';
import { hasToken, refusal, requiredToken } from './access.ts';
import { loadAssets, sniffImage } from './assets.ts';
import { PLAYGROUND, createApi } from './api.ts';
import { JobCoalescer } from './coalesce.ts';
import { ChannelFeed, type TextMessage } from './feed.ts';
import { maySee } from '../../core/visibility.ts';
import type { Actor } from '../../core/job.ts';
import { newSession, readSession, sessionCookie, type Session } from './session.ts';
import { clientKey } from './client-key.ts';
import { cleanName, UploadShelf } from './uploads.ts';

export { PLAYGROUND } from './api.ts';
export { isLoopback, PlaygroundAccessError } from './access.ts';

/**
 * The playground: a shared channel in the browser, a third platform adapter over the same core.
 * Mounts the page, its API and a live feed on the one HTTP server. Throws `PlaygroundAccessError`
 * when HOST is reachable from other machines and no PLAYGROUND_TOKEN is set.
 */
export async function startWeb(ctx: PlatformContext): Promise<RunningPlatform> {
  const { atelier, server, logger } = ctx;
  const log = logger.child({ platform: 'web' });
  const token = requiredToken(ctx.config.HOST, ctx.config.PLAYGROUND_TOKEN);
  const assets = await loadAssets();
  const feed = new ChannelFeed();
  const texts: TextMessage[] = [];
  // The same cap the core holds pictures to (IMAGE_INPUT_MAX_MB), applied as the upload route's body cap.
  const maxPictureBytes = ctx.config.IMAGE_INPUT_MAX_MB * 1024 * 1024;
  const uploads = new UploadShelf();
  const api = createApi({ atelier, commands: ctx.commands, feed, logger: log, texts, uploads, maxPictureBytes });
  let stopped = false;

  const coalescer = new JobCoalescer((job) => feed.send({ type: 'job', message: api.render(job) }, job.private ? job.owner.userId : undefined));
  const unsubscribe = atelier.events.subscribe((event) => {
    const w = event.job.where;
    if (w.platform !== PLAYGROUND.platform || w.channelId !== PLAYGROUND.channelId) return;
    if (event.type === 'job.deleted') {
      coalescer.forget(event.job.id);
      feed.send({ type: 'deleted', id: event.job.id });
    } else coalescer.push(event.job);
  });

  const stoppedAnswer: RawResponse = { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'The playground is stopped.' } } };

  /** Every API route passes here: after stop nothing answers, and a token when one is needed. */
  const guard =
    (handler: RouteHandler, accepts: 'json' | 'picture' = 'json'): RouteHandler =>
    (req) => {
      if (stopped) return stoppedAnswer;
      if (token && !hasToken(req, token)) return { status: 401, body: { error: { code: 'NOT_ALLOWED', message: 'Missing or wrong playground token.' } } };
      const refused = refusal(req, Boolean(token), accepts);
      if (refused) return { status: refused.status, body: { error: { code: 'NOT_ALLOWED', message: refused.message } } };
      return handler(req);
    };

  /** What acts on someone's behalf needs their session: identity is the server's, never the page's say. */
  const withSession = (handler: (req: RawRequest, session: Session) => ReturnType<RouteHandler>, accepts: 'json' | 'picture' = 'json'): RouteHandler =>
    guard((req) => {
      const session = readSession(req);
      if (!session) return { status: 401, body: { error: { code: 'NO_SESSION', message: 'This page has no playground session (cookies off, or it expired): reload the page.' } } };
      return handler(req, session);
    }, accepts);

  /** The person behind a request that only reads; without a session they see only what is public. */
  const viewer = (req: RawRequest): Actor => ({ platform: PLAYGROUND.platform, userId: readSession(req)?.userId ?? '', displayName: '' });

  // The page and its scripts hold nothing secret and are the same for everyone; they stay open so the
  // page can load its modules (which cannot carry the token) and explain a missing token itself.
  const asset = (name: string): RawResponse => (stopped ? stoppedAnswer : (assets.get(name) ?? { status: 404, body: { error: 'not found' } }));
  // Loading the page is where a browser gets its session, once: later loads keep the one it has.
  server.route('GET', '/', (req) => {
    const page = asset('index.html');
    if (page.status !== 200 || readSession(req)) return page;
    return { ...page, headers: { ...page.headers, 'set-cookie': sessionCookie(newSession()) } };
  });
  server.routePrefix('GET', '/assets/', (req) => asset(req.path.slice('/assets/'.length)));

  // A client without a page (a script, a test driver) asks for its session here; the page itself calls
  // it to learn its own id. An existing session is kept, never replaced.
  server.route(
    'POST',
    '/api/session',
    guard((req) => {
      const existing = readSession(req);
      const session = existing ?? newSession();
      const headers: Record<string, string> = existing ? {} : { 'set-cookie': sessionCookie(session) };
      return { status: 200, headers, body: { user: { id: session.userId } } };
    }),
  );
  server.route('GET', '/api/commands', guard(() => api.commands()));
  server.route('POST', '/api/command', withSession((req, s) => api.command(req, s.userId)));
  server.route('POST', '/api/press', withSession((req, s) => api.press(req, s.userId)));
  server.route('POST', '/api/remix', withSession((req, s) => api.remix(req, s.userId)));
  server.route('POST', '/api/zoom', withSession((req, s) => api.zoom(req, s.userId)));
  server.route('POST', '/api/region', withSession((req, s) => api.region(req, s.userId)));

  // One picture per request, its bytes as the body, capped before a byte is kept; the command then names them.
  server.route(
    'POST',
    '/api/uploads',
    withSession((req, s) => {
      const name = cleanName(req.query.get('name'), 1);
      if (req.body.byteLength === 0) return { status: 400, body: { error: { code: 'INVALID_IMAGE', message: `${name} is empty. Add the picture again.` } } };
      const kept = uploads.put(s.userId, name, new Uint8Array(req.body));
      if ('busy' in kept) return { status: 503, headers: { 'retry-after': '30' }, body: { error: { code: 'BUSY', message: kept.busy } } };
      return { status: 200, body: { upload: { id: kept.id, name, size: req.body.byteLength } } };
    }, 'picture'),
    { maxBodyBytes: maxPictureBytes, tooLarge: `That picture is larger than ${maxPictureBytes / 1024 / 1024} MiB, the most Atelier takes: send a smaller one.` },
  );

  server.route(
    'GET',
    '/api/events',
    withSession(async (req, s) => {
      const key = clientKey(req);
      const messages = await api.history(s.userId);
      // Checked and opened with no await between, so concurrent requests cannot all slip under the cap.
      const full = feed.refusal(key);
      if (full) return { status: 429, headers: { 'retry-after': '5' }, body: { error: { code: 'RATE_LIMITED', message: full } } };
      feed.open(req.raw.res, s.userId, key, { type: 'hello', messages });
      return undefined;
    }),
  );

  server.routePrefix('GET', '/api/images/', guard((req) => image(req)));
  server.routePrefix('GET', '/api/previews/', guard((req) => preview(req)));

  /**
   * A stored image at full size, a result or a picture the job started from (kind 'input'); `?download=1` saves
   * it. Private jobs' images, their inputs included, only for their owner's session.
   */
  async function image(req: RawRequest): Promise<RawResponse> {
    const id = decodePart(req.path.slice('/api/images/'.length));
    const meta = await atelier.store.getImage(id);
    const job = meta && (await atelier.getJob(meta.jobId));
    if (!meta || !job || !maySee(job, viewer(req), PLAYGROUND)) return notFound('That image is gone: its job was deleted.');
    const bytes = await atelier.blobs.get(meta.blobKey);
    if (!bytes) return notFound('That image is gone: its job was deleted.');
    const headers: Record<string, string> = { 'content-type': meta.mime, 'cache-control': 'private, max-age=86400', 'x-content-type-options': 'nosniff' };
    if (req.query.get('download') === '1') {
      const ext = meta.mime.split('/')[1]?.replace('jpeg', 'jpg') ?? 'bin';
      const which = meta.kind === 'grid' ? 'grid' : meta.kind === 'input' ? `input-${meta.index}` : meta.index;
      headers['content-disposition'] = `attachment; filename="atelier-${job.id}-${which}.${ext}"`;
    }
    return { status: 200, headers, body: bytes };
  }

  async function preview(req: RawRequest): Promise<RawResponse> {
    const job = await atelier.getJob(decodePart(req.path.slice('/api/previews/'.length)));
    const key = job?.progress.previewKey;
    if (!job || !key || !maySee(job, viewer(req), PLAYGROUND)) return notFound('No preview for that job.');
    const bytes = await atelier.blobs.get(key);
    if (!bytes) return notFound('No preview for that job.');
    return { status: 200, headers: { 'content-type': sniffImage(bytes), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }, body: bytes };
  }

  log.info({ tokenRequired: Boolean(token) }, 'playground mounted at /');

  return {
    name: 'web',
    async stop() {
      stopped = true;
      unsubscribe();
      coalescer.stop();
      feed.close();
    },
  };
}

/** A malformed escape ("%E0%A4%A") names nothing, rather than failing the request. */
function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return '';
  }
}

const notFound = (message: string): RawResponse => ({ status: 404, body: { error: { code: 'NOT_FOUND', message } } });
