import sharp from 'sharp';

/** A small JPEG for progress previews: transparent areas go white, EXIF orientation is applied. */
export async function makePreview(bytes: Uint8Array, maxSide: number): Promise<{ bytes: Uint8Array; mime: string }> {
  const side = Math.max(1, Math.round(maxSide));
  const out = await sharp(bytes)
    .autoOrient()
    .resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 70 })
    .toBuffer();
  return { bytes: out, mime: 'image/jpeg' };
}
