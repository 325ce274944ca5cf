import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sniffImageType } from '../../src/images/sniff.ts';

describe('sniffImageType', () => {
  const base = () => sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } });

  it('names PNG, JPEG, WebP and GIF by their magic bytes', async () => {
    expect(sniffImageType(await base().png().toBuffer())).toBe('image/png');
    expect(sniffImageType(await base().jpeg().toBuffer())).toBe('image/jpeg');
    expect(sniffImageType(await base().webp().toBuffer())).toBe('image/webp');
    expect(sniffImageType(await base().gif().toBuffer())).toBe('image/gif');
  });

  it('refuses what is not one of them', () => {
    expect(sniffImageType(new TextEncoder().encode('<!doctype html><p>502 Bad Gateway'))).toBeUndefined();
    expect(sniffImageType(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffImageType(new Uint8Array())).toBeUndefined();
    expect(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e]))).toBeUndefined();
    // RIFF without WEBP is a WAV or AVI.
    expect(sniffImageType(new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
  });
});
