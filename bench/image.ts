import sharp from 'sharp';
import { GRID_DEFAULTS, gridLayout } from '../src/images/grid.ts';
import { discordRig } from './rig.ts';
import { photoLikes, photoPaths, type PhotoFormat } from './photos.ts';
import { fmt, percentile } from './stats.ts';

/**
 * The image stage, side by side in one run, for four photo-like 1024² sources in each of PNG, WebP and JPEG:
 * - the floor: sharp alone in this process, decoding the four, composing the 2×2 grid at 2048 px and
 *   encoding it once as PNG (issue 14's floor); and a stricter one: the grid at Atelier's own size, encoded
 *   once in the sources' family;
 * - Atelier in its own process, through Discord HTTP interactions to the fake Discord in a third process:
 *   CPU per job (all of Atelier's process: interaction, store, queue, grid, upload) and the wall time from
 *   the provider handing back its images to the fake Discord holding the files ("in the channel").
 * Jobs run one at a time so latency is not queueing.
 */
export async function benchImage(jobs = Number(process.env.BENCH_IMAGE_JOBS ?? 6)): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const format of ['png', 'webp', 'jpeg'] as const) {
    const photos = await photoLikes(format);
    const providerBytes = photos.reduce((s, b) => s + b.length, 0);
    const floorPng = await floor(photos, 'png', jobs, 2048);
    const floorFamily = await floor(photos, format, jobs, GRID_DEFAULTS.maxSide);
    const a = await atelierImageStage(format, jobs);
    const cpuRatio = a.cpuMsPerJob / floorPng.cpuMs;
    const wallRatio = a.p50Ms / floorPng.wallMs;
    const bytesRatio = a.uploadBytes / providerBytes;
    console.log(
      `image ${format}: sources 4×1024² ${format} = ${kib(providerBytes)} KiB. floor (decode 4, 2×2 grid, one PNG encode): CPU ${fmt(floorPng.cpuMs, 0)} ms/job, wall ${fmt(floorPng.wallMs, 0)} ms, ${kib(floorPng.bytes)} KiB; ` +
        `floor at Atelier's grid size (${GRID_DEFAULTS.maxSide} px) in family (${format}): CPU ${fmt(floorFamily.cpuMs, 0)} ms, wall ${fmt(floorFamily.wallMs, 0)} ms, ${kib(floorFamily.bytes)} KiB`,
    );
    console.log(
      `image ${format}: Atelier CPU ${fmt(a.cpuMsPerJob, 0)} ms/job = ${fmt(cpuRatio)}× floor (target ≤ 1.0×; ${fmt(a.cpuMsPerJob / floorFamily.cpuMs)}× the same-size in-family floor); ` +
        `provider done → files in channel p50 ${fmt(a.p50Ms, 0)} ms, max ${fmt(a.maxMs, 0)} ms = ${fmt(wallRatio)}× floor wall (target ≤ 1.2×); ` +
        `upload ${kib(a.uploadBytes)} KiB/result = ${fmt(bytesRatio)}× provider bytes (target ≤ 1.5×), grid ${a.gridName}; ${jobs} jobs${a.violations ? `; FAKE DISCORD VIOLATIONS: ${a.violations}` : ''}`,
    );
    Object.assign(out, { [`${format}CpuRatio`]: cpuRatio, [`${format}WallRatio`]: wallRatio, [`${format}BytesRatio`]: bytesRatio });
  }
  return out;
}

const kib = (n: number) => fmt(n / 1024, 0);

/** The floor: what sharp alone needs for one job's grid, measured over `jobs` runs in this (otherwise idle) process. */
async function floor(photos: Buffer[], encode: PhotoFormat, jobs: number, maxSide: number): Promise<{ cpuMs: number; wallMs: number; bytes: number }> {
  const meta = await sharp(photos[0]).metadata();
  const scale = Math.min(1, maxSide / gridLayout(4, meta.width!, meta.height!).width);
  const layout = gridLayout(4, Math.floor(meta.width! * scale), Math.floor(meta.height! * scale));
  const once = async () => {
    const tiles = await Promise.all(photos.map((p) => sharp(p).resize(layout.cellWidth, layout.cellHeight).removeAlpha().raw().toBuffer()));
    const canvas = Buffer.alloc(layout.width * layout.height * 3);
    const row = layout.cellWidth * 3;
    tiles.forEach((t, i) => {
      const { left, top } = layout.cells[i]!;
      for (let y = 0; y < layout.cellHeight; y++) t.copy(canvas, ((top + y) * layout.width + left) * 3, y * row, (y + 1) * row);
    });
    const img = sharp(canvas, { raw: { width: layout.width, height: layout.height, channels: 3 } });
    const enc = encode === 'png' ? img.png() : encode === 'webp' ? img.webp({ quality: 90 }) : img.jpeg({ quality: 90, chromaSubsampling: '4:4:4' });
    return (await enc.toBuffer()).length;
  };
  await once();
  const c0 = process.cpuUsage();
  const walls: number[] = [];
  let bytes = 0;
  for (let j = 0; j < jobs; j++) {
    const s = performance.now();
    bytes = await once();
    walls.push(performance.now() - s);
  }
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / jobs, wallMs: percentile(walls, 50), bytes };
}

async function atelierImageStage(format: PhotoFormat, jobs: number) {
  const rig = await discordRig({ files: photoPaths(format), delayMs: 1_000 });
  try {
    await rig.job(0, 1); // warm-up: lazy modules, first SQLite pages, sharp's thread pool
    const before = await rig.atelier.call<{ cpuMs: number }>('stats');
    const landed: { n: number; at: number; bytes: number }[] = [];
    for (let n = 1; n <= jobs; n++) landed.push({ n, ...(await rig.job(n, n)) });
    const after = await rig.atelier.call<{ cpuMs: number; providerDone: Record<string, number> }>('stats');
    const lat = landed.map((l) => l.at - after.providerDone[String(l.n)]!);
    const files = (await rig.discord.call<{ results: Record<string, unknown> }>('results')).results;
    const violations = (await rig.discord.call<string[]>('violations')).join(' | ');
    void files;
    return {
      cpuMsPerJob: (after.cpuMs - before.cpuMs) / jobs,
      p50Ms: percentile(lat, 50),
      maxMs: Math.max(...lat),
      uploadBytes: landed.reduce((s, l) => s + l.bytes, 0) / jobs,
      gridName: await gridName(format),
      violations,
    };
  } finally {
    await rig.stop();
  }
}

/** The grid's format as Atelier encodes it for these sources (the ImageTools the app uses). */
async function gridName(format: PhotoFormat): Promise<string> {
  const { createImageTools } = await import('../src/images/index.ts');
  const g = await createImageTools().grid((await photoLikes(format)).map((b) => new Uint8Array(b)));
  return `${g.mime} ${kib(g.bytes.length)} KiB`;
}
