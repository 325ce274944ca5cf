import { blend } from './blend.ts';
import { cancel } from './cancel.ts';
import { help } from './help.ts';
import { imagine } from './imagine.ts';
import { info } from './info.ts';
import { prefer } from './prefer.ts';
import { queue } from './queue.ts';
import { settings } from './settings.ts';
import type { CommandDefinition } from '../src/core/command.ts';

/** Every slash command; both registration formats and every platform's router read this list. */
export const commands: readonly CommandDefinition[] = [imagine, blend, settings, prefer, info, queue, cancel, help] as unknown as readonly CommandDefinition[];

export { blend, cancel, help, imagine, info, prefer, queue, settings };
