/**
 * Turns the message payloads the Discord and Slack adapters send into stand-alone HTML that looks
 * like each client, for the README's pictures. Only what Atelier's messages use is drawn: bold, the
 * small "-#" line and mentions for Discord; mrkdwn sections, context, an image and buttons for Slack.
 */
import type { Job } from '../src/core/job.ts';
import type { ProviderCapabilities } from '../src/core/provider.ts';
import { render, type RenderFile } from '../src/platforms/discord/render.ts';
import { renderJobMessage, type Block } from '../src/platforms/slack/blocks.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const dataUrl = (f: RenderFile) => `data:${f.contentType};base64,${Buffer.from(f.data).toString('base64')}`;
const LABEL = (what: string) => `<p class="label">Render of the ${what} payload Atelier sends for this job — drawn from the JSON, not a screenshot of ${what.split(' ')[0]}.</p>`;

/** Discord's markdown as Atelier writes it: **bold**, backslash escapes, "-# " small lines, <@id> mentions. */
function discordMarkdown(content: string, names: Record<string, string>): string {
  return content
    .split('\n')
    .map((line) => {
      const small = line.startsWith('-# ');
      let html = esc(small ? line.slice(3) : line)
        .replace(/\*\*(.+?)\*\*/g, '<b>$1</b>')
        .replace(/\\([*_~`|\\])/g, '$1')
        .replace(/&lt;@([\w-]+)&gt;/g, (_m, id: string) => `<span class="mention">@${esc(names[id] ?? id)}</span>`);
      if (small) html = `<small>${html}</small>`;
      return `<div>${html}</div>`;
    })
    .join('');
}

export async function discordHtml(job: Job, grid: RenderFile, caps: ProviderCapabilities, imageCount: number): Promise<string> {
  const p = render(job, [grid], caps, imageCount);
  const colours: Record<number, string> = { 1: '#5865f2', 2: '#4e5058', 3: '#248046', 4: '#da373c' };
  const rows = p.components
    .map((row) => `<div class="row">${row.components.map((b) => `<span class="btn" style="background:${colours[b.style] ?? '#4e5058'}">${esc(`${b.emoji?.name ?? ''} ${b.label ?? ''}`.trim())}</span>`).join('')}</div>`)
    .join('');
  return `<!doctype html><meta charset="utf-8"><style>
    body{margin:0;padding:16px 20px;background:#313338;color:#dbdee1;font:15px/1.4 "Noto Sans",sans-serif}
    .msg{display:grid;grid-template-columns:40px 1fr;gap:0 14px}.av{width:40px;height:40px;border-radius:50%;background:#5865f2}
    .who{color:#f2f3f5;font-weight:600}.app{background:#5865f2;color:#fff;font-size:10px;border-radius:3px;padding:1px 4px;margin-left:4px}
    small{color:#949ba4;font-size:12px}.mention{background:#3c4270;color:#c9cdfb;border-radius:3px;padding:0 2px}
    img{display:block;max-width:520px;border-radius:8px;margin:8px 0}.row{display:flex;gap:8px;margin-top:8px}
    .btn{color:#fff;border-radius:3px;padding:3px 14px;font-size:14px;line-height:26px}.label{color:#949ba4;font-size:12px;margin:14px 0 0}
  </style><div class="msg"><div class="av"></div><div><div><span class="who">Atelier</span><span class="app">APP</span></div>
  ${discordMarkdown(p.content, { [job.owner.userId]: job.owner.displayName })}<img src="${dataUrl(grid)}" alt="grid">${rows}</div></div>${LABEL('Discord message')}`;
}

/** Slack's mrkdwn as Atelier writes it: *bold*, _italic_, and the &amp; &lt; &gt; escapes already applied. */
const mrkdwn = (text: string) => text.replace(/\*(.+?)\*/g, '<b>$1</b>').replace(/(^|\s)_(.+?)_(?=\s|$)/g, '$1<i>$2</i>').replace(/\n/g, '<br>');

export function slackHtml(job: Job, grid: RenderFile, caps: ProviderCapabilities, imageCount: number): string {
  const { blocks } = renderJobMessage(job, caps, imageCount, { previewFileId: 'F_GRID' });
  const block = (b: Block): string => {
    const t = b as { type: string; text?: { text: string }; elements?: { text: { text: string } | string; style?: string }[] };
    if (t.type === 'section') return `<div class="section">${mrkdwn(t.text!.text)}</div>`;
    if (t.type === 'context') return `<div class="context">${mrkdwn((t.elements as unknown as { text: string }[]).map((e) => e.text).join(' '))}</div>`;
    if (t.type === 'image') return `<img src="${dataUrl(grid)}" alt="grid">`;
    if (t.type === 'actions') return `<div class="row">${t.elements!.map((e) => `<span class="btn ${e.style ?? ''}">${esc((e.text as { text: string }).text)}</span>`).join('')}</div>`;
    return '';
  };
  return `<!doctype html><meta charset="utf-8"><style>
    body{margin:0;padding:16px 20px;background:#fff;color:#1d1c1d;font:15px/1.46 "Noto Sans",sans-serif}
    .msg{display:grid;grid-template-columns:36px 1fr;gap:0 10px}.av{width:36px;height:36px;border-radius:6px;background:#4a154b}
    .who{font-weight:900}.app{background:#e8e8e8;color:#616061;font-size:10px;border-radius:2px;padding:1px 3px;margin-left:4px}
    .context{color:#616061;font-size:13px;margin:4px 0}img{display:block;max-width:480px;border-radius:8px;margin:8px 0;border:1px solid #ddd}
    .row{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}.btn{border:1px solid #bbb;border-radius:4px;padding:0 12px;font-size:14px;font-weight:700;line-height:28px}
    .btn.primary{background:#007a5a;border-color:#007a5a;color:#fff}.btn.danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
    .label{color:#616061;font-size:12px;margin:14px 0 0}
  </style><div class="msg"><div class="av"></div><div><div><span class="who">Atelier</span><span class="app">APP</span></div>
  ${blocks.map(block).join('')}</div></div>${LABEL('Slack message')}`;
}
