import type { Config } from '../../config.ts';
import { callApi, reason, type DoctorCheck } from '../doctor-check.ts';
import { inviteUrl } from './permissions.ts';

/**
 * Asks Discord whether the configuration works: the bot token (GET /users/@me), the application it
 * belongs to (GET /applications/@me: its id and its interactions public key, `verify_key`), whether
 * commands are registered and whether the bot is in any server.
 */
export async function checkDiscord(config: Config): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  if (!config.DISCORD_TOKEN) {
    if (config.DISCORD_PUBLIC_KEY) out.push({ status: 'todo', line: 'Discord: no DISCORD_TOKEN (needed to register commands and for results after the 15-minute interaction token)', next: 'set DISCORD_TOKEN (Developer Portal → your app → Bot → Reset Token)' });
    return out;
  }
  const api = `${config.DISCORD_API_URL.replace(/\/+$/, '')}/v10`;
  const get = (path: string) => callApi(`${api}${path}`, { headers: { authorization: `Bot ${config.DISCORD_TOKEN}` } });
  try {
    const me = await get('/users/@me');
    if (me.status === 401) {
      out.push({ status: 'fail', line: 'Discord: DISCORD_TOKEN is refused (401 Unauthorized)', next: 'copy a fresh bot token into DISCORD_TOKEN (Developer Portal → your app → Bot → Reset Token)' });
      return out;
    }
    if (me.status !== 200) throw new Error(`GET /users/@me answered ${me.status}`);
    out.push({ status: 'ok', line: `Discord: bot token works (logged in as ${String(me.body.username)})` });

    const app = await get('/applications/@me');
    if (app.status !== 200) throw new Error(`GET /applications/@me answered ${app.status}`);
    const id = String(app.body.id);
    if (!config.DISCORD_APPLICATION_ID) {
      out.push({ status: 'todo', line: `Discord: DISCORD_APPLICATION_ID is not set (the token's application is ${id})`, next: `set DISCORD_APPLICATION_ID=${id}` });
      return out;
    }
    if (config.DISCORD_APPLICATION_ID !== id) {
      out.push({ status: 'fail', line: `Discord: DISCORD_APPLICATION_ID is ${config.DISCORD_APPLICATION_ID}, but the token belongs to application ${id}`, next: `set DISCORD_APPLICATION_ID=${id}` });
      return out;
    }
    out.push({ status: 'ok', line: `Discord: application ${id} matches DISCORD_APPLICATION_ID` });
    const verifyKey = String(app.body.verify_key ?? '');
    if (config.DISCORD_PUBLIC_KEY && config.DISCORD_PUBLIC_KEY.toLowerCase() !== verifyKey.toLowerCase()) {
      out.push({ status: 'fail', line: 'Discord: DISCORD_PUBLIC_KEY is not this application\'s public key: every interaction would be refused', next: `set DISCORD_PUBLIC_KEY=${verifyKey}` });
      return out;
    }
    if (config.DISCORD_PUBLIC_KEY) out.push({ status: 'ok', line: 'Discord: DISCORD_PUBLIC_KEY is the application\'s public key' });

    const commands = await get(`/applications/${id}/commands`);
    const registered = commands.status === 200 && Array.isArray(commands.body) ? commands.body.length : 0;
    if (registered === 0) out.push({ status: 'todo', line: 'Discord: no global slash commands registered', next: 'run register: npm run atelier -- register' });
    else out.push({ status: 'ok', line: `Discord: ${registered} slash commands registered` });

    const guilds = await get('/users/@me/guilds');
    const count = guilds.status === 200 && Array.isArray(guilds.body) ? guilds.body.length : 0;
    if (count === 0) out.push({ status: 'todo', line: 'Discord: the bot is in no server yet', next: `invite the bot with: ${inviteUrl(id)}` });
    else out.push({ status: 'ok', line: `Discord: the bot is in ${count} server${count === 1 ? '' : 's'}` });
  } catch (err) {
    out.push({ status: 'fail', line: `Discord: could not ask ${api}: ${reason(err)}`, next: 'check the network (or DISCORD_API_URL) and run doctor again' });
  }
  return out;
}
