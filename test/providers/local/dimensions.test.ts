import { describe, expect, it } from 'vitest';
import { probeImage } from '../../../src/images/probe.ts';
import { createLocalProvider, sizeFor } from '../../../src/providers/local/index.ts';
import { generate, request, testContext } from './helpers.ts';

describe('local renderer: dimensions', () => {
  it('draws exactly width × height when both are set', async () => {
    const result = await generate({ width: 200, height: 120, count: 2 });
    for (const image of result.images) {
      expect(image).toMatchObject({ width: 200, height: 120 });
      expect(await probeImage(image.bytes)).toEqual({ mime: 'image/png', width: 200, height: 120, hasAlpha: false });
    }
  });

  it.each([
    ['16:9', 1024, 576],
    ['9:16', 576, 1024],
    ['1:1', 1024, 1024],
    ['4:7', 584, 1024],
    [undefined, 1024, 1024],
  ])('takes %s at a long side of 1024 when no size is set', (aspectRatio, width, height) => {
    expect(sizeFor(request({ width: undefined, height: undefined, aspectRatio }), 1024)).toEqual({ width, height });
  });

  it('completes a single width or height from the aspect ratio', () => {
    expect(sizeFor(request({ width: 640, height: undefined, aspectRatio: '16:9' }), 1024)).toEqual({ width: 640, height: 360 });
    expect(sizeFor(request({ width: undefined, height: 300, aspectRatio: '3:2' }), 1024)).toEqual({ width: 450, height: 300 });
    expect(sizeFor(request({ width: 512, height: undefined }), 1024)).toEqual({ width: 512, height: 512 });
  });

  it('renders a 16:9 request at 1024×576 by default', async () => {
    const result = await createLocalProvider().generate(request({ width: undefined, height: undefined, aspectRatio: '16:9', count: 1 }), testContext());
    expect(await probeImage(result.images[0]!.bytes)).toMatchObject({ width: 1024, height: 576 });
  });

  it('uses the configured long side', async () => {
    const result = await createLocalProvider({ longSide: 256 }).generate(request({ width: undefined, height: undefined, aspectRatio: '2:3', count: 1 }), testContext());
    expect(result.images[0]).toMatchObject({ width: 168, height: 256 });
  });
});
