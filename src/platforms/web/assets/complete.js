// Completion for the composer, from the catalog GET /api/commands returns. Pure: text in, suggestions out.

/**
 * What to offer for `text` with the caret at `caret`.
 * Returns { items: [{ value, label, detail }], from, to, autoSelect } — `from`..`to` is the span the chosen
 * value replaces — or undefined when there is nothing to complete.
 */
export function suggest(text, caret, catalog) {
  const before = text.slice(0, caret);
  if (!before.startsWith('/')) return undefined;
  const head = /^\/(\S*)$/.exec(before);
  if (head) {
    const typed = head[1].toLowerCase();
    const items = catalog.commands
      .filter((c) => c.name.startsWith(typed))
      .map((c) => ({ value: `/${c.name} `, label: `/${c.name}`, detail: c.description }));
    return items.length && !(items.length === 1 && items[0].label === before) ? { items, from: 0, to: caret, autoSelect: true } : undefined;
  }
  const name = /^\/(\S+)\s/.exec(before)?.[1]?.toLowerCase();
  const command = catalog.commands.find((c) => c.name === name);
  if (!command) return undefined;

  const tokenStart = before.search(/\S*$/);
  const token = before.slice(tokenStart);
  const options = offered(command, catalog);
  if (token.startsWith('-')) {
    const typed = token.replace(/^-+/, '').toLowerCase();
    const used = new Set([...before.matchAll(/(?:^|\s)--([\w-]+)/g)].map((m) => m[1].toLowerCase()));
    const items = options
      .filter((o) => o.name.startsWith(typed) && !(used.has(o.name) && o.name !== typed))
      .map((o) => ({ value: `--${o.name} `, label: `--${o.name}`, detail: o.detail }));
    return items.length ? { items, from: tokenStart, to: caret, autoSelect: true } : undefined;
  }
  // A value right after an option with a fixed set of values.
  const prev = /--([\w-]+)\s+\S*$/.exec(before)?.[1]?.toLowerCase();
  const option = prev && options.find((o) => o.name === prev);
  if (option?.values) {
    const typed = token.toLowerCase();
    const items = option.values
      .filter((v) => v.toLowerCase().startsWith(typed) && v.toLowerCase() !== typed)
      .map((v) => ({ value: /\s/.test(v) ? `"${v}" ` : `${v} `, label: v, detail: option.detail }));
    return items.length ? { items, from: tokenStart, to: caret, autoSelect: false } : undefined;
  }
  return undefined;
}

/** Typed options except the free-text one, plus the Midjourney flags a prompt understands. */
function offered(command, catalog) {
  const out = [];
  const seen = new Set();
  const add = (o) => {
    if (seen.has(o.name)) return;
    seen.add(o.name);
    out.push(o);
  };
  if (command.positional === 'prompt') {
    for (const f of catalog.promptFlags) add({ name: f.name, detail: f.description, values: f.values });
  }
  for (const o of command.options) {
    if (o.name === command.positional) continue;
    const values = o.enum ?? (o.type === 'boolean' ? ['yes', 'no'] : undefined);
    const range = o.minimum !== undefined && o.maximum !== undefined ? ` (${o.minimum}-${o.maximum})` : '';
    add({ name: o.name, detail: `${o.description}${range}`, values });
  }
  return out;
}
