/**
 * The platform-neutral face of a chat platform, as the contract suite sees it. Each platform writes one
 * thin driver (Discord: `discord-driver.ts`, Slack: `slack-driver.ts`, playground: `web-driver.ts`) that
 * runs the real app against that platform's loopback fake and translates these calls into the platform's
 * own requests. Scenarios live in `suite.ts` and are written once.
 */

/** A member of the test channel. `canManage` means Manage Messages / Manage Server on Discord, admin on Slack. */
export interface TestUser {
  id: string;
  name: string;
  canManage?: boolean;
}

/** A button as the user sees it. `label` is the visible text ("U2", "Reroll"); `emoji` when it has one. */
export interface ViewButton {
  label: string;
  emoji?: string;
  /** The platform's opaque id (Discord custom_id, Slack action_id + value): passed back to `press`. */
  id: string;
}

export interface ViewFile {
  name: string;
  bytes: number;
  contentType?: string;
}

/** One message as a user of the channel would see it after all edits so far. */
export interface ViewMessage {
  /** Stable across edits of the same message. */
  id: string;
  text: string;
  files: ViewFile[];
  buttons: ViewButton[];
  /** Visible to one user only (Discord ephemeral, Slack response_type ephemeral, playground private). */
  ephemeral: boolean;
  /** For ephemeral messages: who sees it. */
  visibleTo?: string;
  /** User ids this message pings (after the platform's mention rules were applied). */
  pings: string[];
  /** Delivered as a direct message rather than in the channel. */
  direct?: boolean;
}

/** How the platform saw the bot's first answer to a command, button press or modal submit. */
export type Ack =
  | { kind: 'deferred' }
  | { kind: 'message'; message: ViewMessage }
  | { kind: 'modal'; modalId: string; fields: Record<string, string> }
  | { kind: 'update' }
  /** The platform refused the request before the bot saw it, or the bot refused it (bad signature). */
  | { kind: 'rejected'; status: number };

/**
 * What a driver's platform can do; scenarios that need a missing capability are skipped for that driver
 * only, and nothing else is.
 */
export interface DriverCapabilities {
  /** A modal (Remix) as the first response to a button. */
  modals: boolean;
  /** Requests are signed; forged, stale and future signatures can be sent. */
  signatures: boolean;
  /** The platform's reply tokens expire (Discord 15 min) and the driver can force that. */
  tokenExpiry: boolean;
  /** The driver runs the app as a child process that can be SIGKILLed and restarted on the same data. */
  restart: boolean;
}

export interface SignatureProbe {
  /** The HTTP status the app answered. */
  status: number;
}

/** A picture a test user attaches. */
export interface TestImage {
  name: string;
  bytes: Uint8Array;
  contentType: string;
}

export interface ContractDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /**
   * Starts the fake platform and the app on a fresh temporary data dir, with the `local` provider and
   * `contractProviders` from `providers.ts` (`failing`, `slow`) registered.
   */
  start(): Promise<void>;
  stop(): Promise<void>;

  /** A slash command typed by `user` in the test channel; options are typed values keyed by option name. */
  command(user: TestUser, name: string, options: Record<string, string | number | boolean>): Promise<Ack>;
  /**
   * /imagine with pictures attached the platform's own way: Discord attachment options (the file hosted on the
   * fake CDN, its URL in `resolved.attachments`), Slack's /imagine modal file input (the file on the fake
   * `files.slack.com` behind the bot token), a playground upload. `options` as for `command`.
   */
  imagineWithImages(user: TestUser, prompt: string, images: TestImage[], options?: Record<string, string | number | boolean>): Promise<Ack>;
  /** /blend with these pictures, attached the same way; `options` e.g. { dimensions: 'landscape' }. */
  blend(user: TestUser, images: TestImage[], options?: Record<string, string | number | boolean>): Promise<Ack>;
  /** `user` presses `button` on `message`. */
  press(user: TestUser, message: ViewMessage, button: ViewButton): Promise<Ack>;
  /** Submits a modal opened by an earlier ack, with its fields changed to `values`. */
  submitModal(user: TestUser, modal: Extract<Ack, { kind: 'modal' }>, values: Record<string, string>): Promise<Ack>;

  /** Every message the bot has shown so far and not deleted, oldest first, ephemerals and DMs included. */
  messages(): ViewMessage[];
  /**
   * Resolves with the first message (current state) matching `predicate`, waiting for edits as they
   * arrive; rejects after `timeoutMs` (default 20 s) naming what it saw.
   */
  waitFor(predicate: (m: ViewMessage) => boolean, description: string, timeoutMs?: number): Promise<ViewMessage>;
  /** Number of jobs the app has queued or run so far (read from its store). */
  jobCount(): Promise<number>;

  /** capabilities.restart: SIGKILL the app process and start it again on the same data dir. */
  killAndRestart?(): Promise<void>;
  /** capabilities.tokenExpiry: every reply token issued so far stops working now. */
  expireTokens?(): void;
  /** capabilities.signatures: sends a command signed with a wrong key, a stale and a future timestamp. */
  probeSignature?(kind: 'forged' | 'stale' | 'future' | 'valid'): Promise<SignatureProbe>;
}

/** A button on `message` by its label or emoji ("U2", "V3", "🔄"); throws naming the buttons it has. */
export function findButton(message: ViewMessage, labelOrEmoji: string): ViewButton {
  const b = message.buttons.find((x) => x.label === labelOrEmoji || x.emoji === labelOrEmoji);
  if (!b) throw new Error(`no button "${labelOrEmoji}" on message ${message.id}; it has ${message.buttons.map((x) => x.emoji ?? x.label).join(' ') || 'none'}`);
  return b;
}

export const alice: TestUser = { id: '100000000000000001', name: 'alice' };
export const bob: TestUser = { id: '100000000000000002', name: 'bob' };
export const mod: TestUser = { id: '100000000000000003', name: 'mod', canManage: true };
