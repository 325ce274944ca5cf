/**
 * How Midjourney reads pictures in a prompt, for the fakes of gateways that pass prompts to it. Sources: [mj]
 * docs.midjourney.com "Image Prompts" (URLs lead the prompt; "two or more images, or an image and text"),
 * "Image Weight" (--iw 0–3 in V7, 0–2 in V6, 0.5–2 in V5), "Style Reference" (--sref URLs, from V6); a second
 * witness for the prompt form, imaginepro.ai "Imagine" ("include an image URL in the prompt … same like you
 * using Midjourney in Discord") and imagineapi.dev ("any value supported by Midjourney prompt … including
 * image urls"). `version` is the Midjourney version the prompt runs on (7 when unknown).
 */
export function midjourneyPictures(prompt: string, version = 7): { urls: string[]; problems: string[] } {
  const tokens = prompt.trim().split(/\s+/);
  const urls: string[] = [];
  const problems: string[] = [];
  let i = 0;
  while (i < tokens.length && /^https?:\/\//i.test(tokens[i]!)) urls.push(tokens[i++]!);
  const text = tokens.slice(i).join(' ').replace(/(^|\s)--\S.*$/, '').trim();
  if (urls.length === 1 && !text) problems.push('an image prompt needs text or a second image');
  const iw = /(?:^|\s)--iw\s+(\S+)/.exec(prompt);
  if (iw) {
    const n = Number(iw[1]);
    const [lo, hi] = version >= 7 ? [0, 3] : version >= 6 ? [0, 2] : [0.5, 2];
    if (!urls.length) problems.push('--iw needs an image prompt');
    if (!(n >= lo && n <= hi)) problems.push(`--iw must be between ${lo} and ${hi}`);
  }
  const sref = /(?:^|\s)--sref((?:\s+(?!--)\S+)+)/.exec(prompt);
  if (sref) {
    if (version < 6) problems.push('--sref is not available before version 6');
    urls.push(...sref[1]!.trim().split(/\s+/).filter((t) => /^https?:\/\//i.test(t)));
  }
  return { urls, problems };
}
