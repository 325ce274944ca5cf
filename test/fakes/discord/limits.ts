/**
 * Documented limits the spec does not encode (or encodes looser than Discord enforces):
 * message content 2000 (resources/message.mdx), 5 action rows of at most 5 buttons, custom_id 1-100 and
 * unique per message, button label 80 (components/reference.mdx), 10 attachments a message.
 */
export function checkMessageLimits(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof body.content === 'string' && body.content.length > 2000) errors.push(`content: ${body.content.length} characters, the limit is 2000`);
  if (Array.isArray(body.attachments) && body.attachments.length > 10) errors.push(`attachments: ${body.attachments.length}, the limit is 10`);
  const rows = body.components;
  if (!Array.isArray(rows)) return errors;
  if (rows.length > 5) errors.push(`components: ${rows.length} action rows, the limit is 5`);
  const ids = new Set<string>();
  rows.forEach((row: { type?: number; components?: unknown[] }, r) => {
    if (row.type !== 1) return;
    const items = (row.components ?? []) as { type?: number; custom_id?: string; label?: string; emoji?: unknown; url?: string }[];
    if (items.filter((c) => c.type === 2).length > 5) errors.push(`components[${r}]: more than 5 buttons in a row`);
    items.forEach((c, k) => {
      if (c.type !== 2) return;
      const where = `components[${r}].components[${k}]`;
      if (c.custom_id !== undefined) {
        if (c.custom_id.length < 1 || c.custom_id.length > 100) errors.push(`${where}.custom_id: length ${c.custom_id.length}, must be 1-100`);
        if (ids.has(c.custom_id)) errors.push(`${where}.custom_id: "${c.custom_id}" is not unique in the message`);
        ids.add(c.custom_id);
      } else if (!c.url) errors.push(`${where}: a non-link button needs a custom_id`);
      if (c.label !== undefined && c.label.length > 80) errors.push(`${where}.label: length ${c.label.length}, the limit is 80`);
      if (!c.label && !c.emoji) errors.push(`${where}: a button needs a label or an emoji`);
    });
  });
  return errors;
}
