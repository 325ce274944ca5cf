/**
 * What a prompt may not carry: control characters (stored, logged and shown back, NUL/BEL/ESC do harm
 * and mean nothing to a model) and invisible format characters (a prompt of only zero-width spaces
 * looks empty yet passes a length check). Joiners and selectors that are part of an emoji or of a
 * script's spelling are kept: stripping them would change what the person wrote.
 */

/** Line breaks and tabs are whitespace a person typed: they become spaces. */
const WHITESPACE_CONTROLS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/** C0 and C1 controls and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is this regex's purpose
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;
/** Invisible format characters with no place in a prompt outside the sequences kept below. */
// eslint-disable-next-line no-misleading-character-class -- the lone joiners and selectors are what it looks for
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8\u{1D173}-\u{1D17A}\u{E0000}-\u{E0FFF}]/gu;

/** Before a kept joiner: an emoji (with its presentation selector or skin tone). */
const EMOJI_BEFORE = String.raw`\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]?`;
/** Sequences kept, tried first at each position; anything else invisible is dropped. */
const KEPT = [
  // ZWJ inside an emoji sequence (👩‍💻), or ZWJ / ZWNJ between letters of scripts that spell with them.
  String.raw`(?<=${EMOJI_BEFORE})\u200D(?=\p{Extended_Pictographic})`,
  String.raw`(?<=[\p{L}\p{M}])[\u200C\u200D](?=[\p{L}\p{M}])`,
  // VS16 / VS15 right after a character with an emoji or text presentation (❤️, keycaps 1️⃣).
  String.raw`(?<=[\p{Extended_Pictographic}\p{Emoji}])[\uFE0E\uFE0F]`,
  // Tag characters of a subdivision flag (🏴 + tags + cancel tag).
  String.raw`(?<=\u{1F3F4}[\u{E0020}-\u{E007E}]*)[\u{E0020}-\u{E007F}]`,
].join('|');
// eslint-disable-next-line no-misleading-character-class -- built from the parts above, same reason
const STRIP = new RegExp(`(?<keep>${KEPT})|${INVISIBLE.source}`, 'gu');

/** The prompt without control and invisible characters (emoji and script joiners kept), trimmed. */
export function cleanPromptText(input: string): string {
  return input
    .replace(WHITESPACE_CONTROLS, ' ')
    .replace(CONTROLS, '')
    .replace(STRIP, (match, keep: string | undefined) => keep ?? '')
    .trim();
}
