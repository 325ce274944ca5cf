import type { Rgb } from './colour.ts';

/** RGB floats, row-major; painting blends in floats and rounds once at the end, so passes add up exactly. */
export interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function createCanvas(width: number, height: number): Canvas {
  return { width, height, data: new Float32Array(width * height * 3) };
}

/** Blends `colour` over the pixel at offset `i` with opacity `a`. */
function blend(data: Float32Array, i: number, c: Rgb, a: number): void {
  data[i] = data[i]! + (c[0] - data[i]!) * a;
  data[i + 1] = data[i + 1]! + (c[1] - data[i + 1]!) * a;
  data[i + 2] = data[i + 2]! + (c[2] - data[i + 2]!) * a;
}

/** Rows [y0, y1) filled with a vertical gradient from `top` to `bottom`. */
export function fillRows(canvas: Canvas, y0: number, y1: number, top: Rgb, bottom: Rgb): void {
  const { width, height, data } = canvas;
  const from = Math.max(0, Math.floor(y0));
  const to = Math.min(height, Math.ceil(y1));
  for (let y = from; y < to; y++) {
    const t = to - from > 1 ? (y - from) / (to - from - 1) : 0;
    const r = top[0] + (bottom[0] - top[0]) * t;
    const g = top[1] + (bottom[1] - top[1]) * t;
    const b = top[2] + (bottom[2] - top[2]) * t;
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3) {
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
}

/** A disc with a soft edge `feather` pixels wide; a large feather makes a cloud puff. */
export function disc(canvas: Canvas, cx: number, cy: number, radius: number, colour: Rgb, alpha: number, feather = 1.5): void {
  const { width, height, data } = canvas;
  const outer = radius + feather;
  const x0 = Math.max(0, Math.floor(cx - outer));
  const x1 = Math.min(width - 1, Math.ceil(cx + outer));
  const y0 = Math.max(0, Math.floor(cy - outer));
  const y1 = Math.min(height - 1, Math.ceil(cy + outer));
  const inner = Math.max(0, radius - feather);
  const inner2 = inner * inner;
  const outer2 = outer * outer;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    const rest = outer2 - dy * dy;
    if (rest <= 0) continue;
    // Only the chord of the circle on this row.
    const half = Math.sqrt(rest);
    const from = Math.max(x0, Math.floor(cx - half - 0.5));
    const to = Math.min(x1, Math.ceil(cx + half - 0.5));
    for (let x = from; x <= to; x++) {
      const dx = x + 0.5 - cx;
      const d2 = dx * dx + dy * dy;
      if (d2 >= outer2) continue;
      let a = alpha;
      if (d2 > inner2) {
        const t = (outer - Math.sqrt(d2)) / (outer - inner);
        a *= t * t * (3 - 2 * t);
      }
      blend(data, (y * width + x) * 3, colour, a);
    }
  }
}

/** Adds light that falls off with distance: the halo of a sun, a lamp or a lightning bolt. */
export function glow(canvas: Canvas, cx: number, cy: number, radius: number, colour: Rgb, strength: number): void {
  const { width, height, data } = canvas;
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(width - 1, Math.ceil(cx + radius));
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(height - 1, Math.ceil(cy + radius));
  const r2 = radius * radius;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const d2 = dx * dx + dy * dy;
      if (d2 >= r2) continue;
      const f = 1 - d2 / r2;
      const k = strength * f * f;
      const i = (y * width + x) * 3;
      data[i] = data[i]! + colour[0] * k;
      data[i + 1] = data[i + 1]! + colour[1] * k;
      data[i + 2] = data[i + 2]! + colour[2] * k;
    }
  }
}

/** An axis-aligned rectangle with anti-aliased left and right edges. */
export function rect(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, colour: Rgb, alpha: number): void {
  const { width, height, data } = canvas;
  const top = Math.max(0, Math.round(y0));
  const bottom = Math.min(height, Math.round(y1));
  const left = Math.max(0, Math.floor(x0));
  const right = Math.min(width, Math.ceil(x1));
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const cover = Math.min(1, x + 1 - x0, x1 - x);
      if (cover > 0) blend(data, (y * width + x) * 3, colour, alpha * cover);
    }
  }
}

/**
 * Everything below a skyline: `skyline[x]` is the top edge in pixels. The fill shades from `top` at
 * the edge to `bottom` `depth` rows below it; with `vanish` it also fades out over those rows, so a
 * distant range melts into whatever lies below it. The edge row is covered by its fraction (anti-aliasing).
 */
export function belowSkyline(canvas: Canvas, skyline: Float32Array, top: Rgb, bottom: Rgb, alpha: number, depth: number, vanish = false): void {
  const { width, height, data } = canvas;
  for (let x = 0; x < width; x++) {
    const edge = skyline[x]!;
    const first = Math.max(0, Math.floor(edge));
    const last = vanish ? Math.min(height, Math.ceil(edge + depth)) : height;
    for (let y = first; y < last; y++) {
      const t = Math.min(1, (y - edge) / depth);
      const c: Rgb = [top[0] + (bottom[0] - top[0]) * t, top[1] + (bottom[1] - top[1]) * t, top[2] + (bottom[2] - top[2]) * t];
      const cover = y === first ? Math.min(1, first + 1 - edge) : 1;
      blend(data, (y * width + x) * 3, c, alpha * cover * (vanish ? 1 - t * t : 1));
    }
  }
}

/** A thin straight stroke (rain, lightning): one square dab of `lineWidth` pixels per step. */
export function stroke(canvas: Canvas, x0: number, y0: number, x1: number, y1: number, lineWidth: number, colour: Rgb, alpha: number): void {
  const { width, height, data } = canvas;
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  const half = Math.max(0, Math.round(lineWidth / 2) - 1);
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const cx = Math.round(x0 + (x1 - x0) * t);
    const cy = Math.round(y0 + (y1 - y0) * t);
    for (let y = Math.max(0, cy - half); y <= Math.min(height - 1, cy + half); y++) {
      for (let x = Math.max(0, cx - half); x <= Math.min(width - 1, cx + half); x++) blend(data, (y * width + x) * 3, colour, alpha);
    }
  }
}

/** Blends every pixel toward `colour` by `amountOfRow(y)`: fog, tints. */
export function veilRows(canvas: Canvas, colour: Rgb, amountOfRow: (y: number) => number): void {
  const { width, height, data } = canvas;
  for (let y = 0; y < height; y++) {
    const a = amountOfRow(y);
    if (a <= 0) continue;
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3) blend(data, i, colour, a);
  }
}

/** Adds `colour` × `amountOfRow(y)` to every pixel of each row: light that lies in a band. */
export function glowRows(canvas: Canvas, colour: Rgb, amountOfRow: (y: number) => number): void {
  const { width, height, data } = canvas;
  for (let y = 0; y < height; y++) {
    const a = amountOfRow(y);
    if (a <= 0.002) continue;
    const r = colour[0] * a;
    const g = colour[1] * a;
    const b = colour[2] * a;
    for (let x = 0, i = y * width * 3; x < width; x++, i += 3) {
      data[i] = data[i]! + r;
      data[i + 1] = data[i + 1]! + g;
      data[i + 2] = data[i + 2]! + b;
    }
  }
}
