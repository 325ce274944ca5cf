/** Discord's REST side for the ack bench: answers every call as Discord would in shape (a message, or 204), costing the bot nothing. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from '../child.ts';

let n = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'DELETE') {
      res.writeHead(204).end();
      return;
    }
    const id = String(600000000000000000n + BigInt(++n));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, channel_id: '1', content: '', attachments: [], components: [], type: 0 }));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
serveParent({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api` }, {});
