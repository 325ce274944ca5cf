import { describe, expect, it, vi } from 'vitest';

// The grid itself is replaced by a call we finish by hand, to see how many run at once.
const pending: (() => void)[] = [];
vi.mock('../../src/images/grid.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/images/grid.ts')>()),
  composeGrid: vi.fn(() => new Promise((resolve) => pending.push(() => resolve({ bytes: new Uint8Array(1), mime: 'image/png', width: 1, height: 1 })))),
}));

const { createImageTools } = await import('../../src/images/image-tools.ts');
const { composeGrid } = await import('../../src/images/grid.ts');
const { solidPng } = await import('./helpers.ts');

const settle = () => new Promise((r) => setImmediate(r));

describe('createImageTools: image work is bounded', () => {
  it('runs at most `concurrency` operations at once; the others start as earlier ones finish', async () => {
    const tools = createImageTools({ concurrency: 2 });
    const grids = [0, 1, 2].map(() => tools.grid([new Uint8Array(1), new Uint8Array(1)]));
    const png = await solidPng(8, 8, { r: 255, g: 0, b: 0 });
    let probed = false;
    const probe = tools.probe(png).then(() => (probed = true));
    await settle();
    // Two grids decode; the third grid and the probe wait with only their compressed bytes.
    expect(composeGrid).toHaveBeenCalledTimes(2);
    expect(probed).toBe(false);
    pending.shift()!();
    await settle();
    expect(composeGrid).toHaveBeenCalledTimes(3);
    pending.shift()!();
    await probe;
    pending.shift()!();
    await Promise.all(grids);
  });
});
