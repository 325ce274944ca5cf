/** Thrown for a blob key that could name something outside the store, or that no store would accept. */
export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Blob keys are relative paths of plain segments (`jobs/abc/1.png`): letters, digits, `.`, `_`, `-`,
 * separated by `/`. Every blob store checks keys the same way, so a key that works on one works on all,
 * and a folder store can never be led outside its folder (`..`, absolute paths, backslashes, NUL, a
 * leading dot are refused).
 */
export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) throw new InvalidBlobKeyError(`blob key must be 1-512 characters`);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) throw new InvalidBlobKeyError(`invalid blob key ${JSON.stringify(key)}: use letters, digits, ".", "_", "-" and "/" between plain names`);
  }
}
