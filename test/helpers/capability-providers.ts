import type { ImageProvider, ProviderRunContext, SourceImage } from '../../src/core/provider.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';

/**
 * Providers that differ from `local` only in what they declare or when they finish, for tests of
 * capability-driven buttons and repeated presses. Both draw with the local renderer.
 */
const local = createLocalProvider({ longSide: 128, previewSide: 64 });

/** Draws, but declares (and has) no upscale and no variations, like the Flux.1 gateway. */
export const sketchProvider: ImageProvider = {
  id: 'sketch',
  displayName: 'Sketch',
  capabilities: { ...local.capabilities, upscale: false, variations: false },
  generate: (request, ctx) => local.generate(request, ctx),
};

/** Its upscales wait until `release()` (or their AbortSignal), so a test can press again while one runs. */
export function heldUpscaleProvider(): ImageProvider & { release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    id: 'held',
    displayName: 'Held',
    capabilities: local.capabilities,
    generate: (request, ctx) => local.generate(request, ctx),
    async upscale(source: SourceImage, ctx: ProviderRunContext) {
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve);
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
      });
      return local.upscale!(source, ctx);
    },
    release: () => open(),
  };
}
