import { UserError } from './errors.ts';
import type { JobAction, PanDirection } from './job.ts';
import type { ImageEdit, Region } from './request.ts';

/** The zoom factors Midjourney offers: the buttons are 1.5× and 2×, Custom Zoom takes 1.1 to 2. */
export const ZOOM_BUTTONS = [1.5, 2] as const;
export const ZOOM_MIN = 1.1;
export const ZOOM_MAX = 2;
/** A pan extends the picture by this share of its side, like Midjourney's arrows. */
export const PAN_SHARE = 0.5;

export type EditAction = Extract<JobAction, { kind: 'zoom' | 'pan' | 'square' | 'region' }>;

export const isEditAction = (a: JobAction): a is EditAction => a.kind === 'zoom' || a.kind === 'pan' || a.kind === 'square' || a.kind === 'region';

/**
 * The edit a button asks for, in the source's own pixels: where the source sits on the new canvas, or the
 * region to repaint. The provider scales the canvas to what it can paint; the proportions are what matter.
 */
export function editFor(action: EditAction, imageId: string, source: { width: number; height: number }): ImageEdit {
  const { width: w, height: h } = source;
  switch (action.kind) {
    case 'zoom': {
      if (!(action.factor >= ZOOM_MIN && action.factor <= ZOOM_MAX)) {
        throw new UserError('INVALID_OPTIONS', `Zoom takes a factor from ${ZOOM_MIN} to ${ZOOM_MAX} (e.g. 1.5), not ${action.factor}.`);
      }
      const cw = Math.round(w * action.factor);
      const ch = Math.round(h * action.factor);
      return { kind: 'outpaint', imageId, canvas: { width: cw, height: ch }, left: Math.floor((cw - w) / 2), top: Math.floor((ch - h) / 2) };
    }
    case 'pan':
      return panEdit(action.direction, imageId, w, h);
    case 'square': {
      if (w === h) throw new UserError('INVALID_OPTIONS', 'That picture is square already.');
      const side = Math.max(w, h);
      return { kind: 'outpaint', imageId, canvas: { width: side, height: side }, left: Math.floor((side - w) / 2), top: Math.floor((side - h) / 2) };
    }
    case 'region':
      return { kind: 'inpaint', imageId, region: checkRegion(action.region) };
  }
}

function panEdit(direction: PanDirection, imageId: string, w: number, h: number): ImageEdit {
  const dx = Math.round(w * PAN_SHARE);
  const dy = Math.round(h * PAN_SHARE);
  switch (direction) {
    case 'left':
      return { kind: 'outpaint', imageId, canvas: { width: w + dx, height: h }, left: dx, top: 0 };
    case 'right':
      return { kind: 'outpaint', imageId, canvas: { width: w + dx, height: h }, left: 0, top: 0 };
    case 'up':
      return { kind: 'outpaint', imageId, canvas: { width: w, height: h + dy }, left: 0, top: dy };
    case 'down':
      return { kind: 'outpaint', imageId, canvas: { width: w, height: h + dy }, left: 0, top: 0 };
  }
}

/** A region a person drew or typed: inside the picture, and big enough to paint (at least 5% each way). */
export function checkRegion(r: Region): Region {
  const ok = [r.x, r.y, r.width, r.height].every(Number.isFinite) && r.x >= 0 && r.y >= 0 && r.width >= 0.05 && r.height >= 0.05 && r.x + r.width <= 1.0001 && r.y + r.height <= 1.0001;
  if (!ok) throw new UserError('INVALID_OPTIONS', 'The region must lie inside the picture and be at least 5% wide and tall: give x, y, width and height in percent, e.g. 25, 25, 50, 50.');
  return r;
}

/** "x,y,w,h" in percent, as the Discord and Slack modals take it. */
export function parseRegionPercent(text: string): Region {
  const parts = text.split(/[\s,;]+/).filter(Boolean).map((p) => Number(p.replace(/%$/, '')));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
    throw new UserError('INVALID_OPTIONS', `Give the region as four numbers in percent: x, y, width, height (e.g. 25, 25, 50, 50), not "${text.slice(0, 60)}".`);
  }
  const [x, y, width, height] = parts.map((n) => n / 100) as [number, number, number, number];
  return checkRegion({ x, y, width, height });
}

/** A Custom Zoom factor as typed ("1.8", "1.8x", "--zoom 1.8"). */
export function parseZoomFactor(text: string): number {
  const m = /^(?:--zoom\s+)?(\d+(?:\.\d+)?)\s*[x×]?$/i.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= ZOOM_MIN && n <= ZOOM_MAX)) throw new UserError('INVALID_OPTIONS', `Custom Zoom takes a number from ${ZOOM_MIN} to ${ZOOM_MAX}, e.g. 1.8, not "${text.slice(0, 40)}".`);
  return n;
}
