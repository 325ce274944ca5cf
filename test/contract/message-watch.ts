import type { ViewMessage } from './driver.ts';

/** One line per message, for a timeout's explanation. */
export function describeMessages(messages: readonly ViewMessage[]): string {
  if (messages.length === 0) return '  nothing';
  return messages.map((m) => `  [${m.id}${m.ephemeral ? ' ephemeral' : ''}] ${m.text.replace(/\n/g, ' | ')} {${m.buttons.map((b) => b.emoji ?? b.label).join(' ')}} files:${m.files.length}`).join('\n');
}

/**
 * Waiting on messages that a driver learns about as they change (a fake's callback, a live feed):
 * `changed()` re-checks every waiter, `waitFor` resolves with the first match or fails with `explain()`.
 */
export function createMessageWatch(list: () => readonly ViewMessage[]) {
  const waiters = new Set<() => boolean>();
  return {
    changed(): void {
      for (const w of [...waiters]) w();
    },
    waitFor(predicate: (m: ViewMessage) => boolean, description: string, timeoutMs: number, explain: () => string): Promise<ViewMessage> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = list().find(predicate);
          if (!hit) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${description}; ${explain()}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}
