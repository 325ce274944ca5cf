import sharp from 'sharp';
import type { ImageProvider } from '../../../src/core/provider.ts';
import { UserError } from '../../../src/core/errors.ts';
import { slowProvider } from '../../contract/providers.ts';

/**
 * Reports 40 % with a preview image and then runs until canceled: a running job with a preview that
 * stays on screen as long as a test needs it, with no timing involved.
 */
export const previewingProvider: ImageProvider = {
  id: 'previewing',
  displayName: 'Previewing',
  capabilities: { ...slowProvider.capabilities, previews: true },
  async generate(_req, ctx) {
    const preview = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#5865f2' } }).png().toBuffer();
    ctx.progress({ percent: 40, stage: 'Sketching', preview: { bytes: new Uint8Array(preview), mime: 'image/png' } });
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new UserError('CANCELED', 'Canceled.')));
    });
  },
};
