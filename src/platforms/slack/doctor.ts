import type { Config } from '../../config.ts';
import { callApi, reason, type DoctorCheck } from '../doctor-check.ts';
import { BOT_SCOPES } from './manifest.ts';

/**
 * Asks Slack whether the bot token works (auth.test) and holds every scope the manifest asks for: Slack
 * lists a token's scopes in the `x-oauth-scopes` header of each Web API answer.
 */
export async function checkSlack(config: Config): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  if (!config.SLACK_BOT_TOKEN) return out;
  const url = new URL('auth.test', config.SLACK_API_URL.endsWith('/') ? config.SLACK_API_URL : `${config.SLACK_API_URL}/`).toString();
  try {
    const res = await callApi(url, { method: 'POST', headers: { authorization: `Bearer ${config.SLACK_BOT_TOKEN}` } });
    if (res.body.ok !== true) {
      out.push({ status: 'fail', line: `Slack: SLACK_BOT_TOKEN is refused (${String(res.body.error ?? `HTTP ${res.status}`)})`, next: 'copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into SLACK_BOT_TOKEN' });
      return out;
    }
    out.push({ status: 'ok', line: `Slack: bot token works (${String(res.body.user)} in ${String(res.body.team)})` });
    const granted = new Set((res.headers.get('x-oauth-scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    const missing = BOT_SCOPES.filter((s) => !granted.has(s));
    if (missing.length) {
      out.push({
        status: 'fail',
        line: `Slack: the bot token lacks the scopes ${missing.join(', ')}`,
        next: `add the scopes ${missing.join(', ')} (OAuth & Permissions → Bot Token Scopes, or the manifest register prints) and reinstall the app`,
      });
    } else out.push({ status: 'ok', line: `Slack: the token holds every scope the manifest asks for (${BOT_SCOPES.join(', ')})` });
  } catch (err) {
    out.push({ status: 'fail', line: `Slack: could not ask ${url}: ${reason(err)}`, next: 'check the network (or SLACK_API_URL) and run doctor again' });
    return out;
  }
  if (!config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN) {
    out.push({ status: 'todo', line: 'Slack: neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is set', next: 'set SLACK_APP_TOKEN (Basic Information → App-Level Tokens, scope connections:write) or SLACK_SIGNING_SECRET' });
  }
  return out;
}
