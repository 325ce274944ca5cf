import { describe, expect, it } from 'vitest';
import { moderate } from '../../src/core/moderation.ts';

describe('moderate', () => {
  it('refuses a banned word and names it', () => {
    expect(() => moderate('a photo of a Gizmo', { banned: ['gizmo'], allowNsfw: true })).toThrow(/"gizmo", which is not allowed here/);
  });

  it('matches whole words only', () => {
    expect(() => moderate('a scattered cat', { banned: ['cat'], allowNsfw: true })).toThrow();
    expect(() => moderate('a scatter plot', { banned: ['cat'], allowNsfw: true })).not.toThrow();
  });

  it('supports /regex/ patterns', () => {
    expect(() => moderate('logo of acme corp', { banned: ['/ac+me/'], allowNsfw: true })).toThrow(/\/ac\+me\//);
  });

  it('refuses NSFW terms unless the channel allows them', () => {
    expect(() => moderate('a nude statue', { banned: [], allowNsfw: false })).toThrow(/does not allow NSFW/);
    expect(() => moderate('a nude statue', { banned: [], allowNsfw: true })).not.toThrow();
  });

  it('says who blocked it', () => {
    try {
      moderate('gizmo', { banned: ['gizmo'], allowNsfw: true });
      expect.unreachable();
    } catch (err) {
      expect((err as { details: { blockedBy: string } }).details.blockedBy).toMatch(/banned words/);
    }
  });
});
