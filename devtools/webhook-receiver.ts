/**
 * A webhook receiver for tests, on 127.0.0.1: verifies each POST's Standard Webhooks signature with
 * the `standardwebhooks` package (as a clinic's receiver would), answers 204, or 401 when it does not verify.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What a test receiver got: verified deliveries (id and parsed body) and the refusals' reasons. */
export interface WebhookReceiver {
  readonly got: { id: string; body: { type: string; timestamp: string; data: Record<string, unknown> } }[];
  readonly refused: string[];
  readonly port: number;
  close(): Promise<void>;
}

/** Starts a receiver checking signatures with `secret` on `port` (0: any free port). */
export async function startWebhookReceiver(secret: string, port = 0): Promise<WebhookReceiver> {
  const got: WebhookReceiver['got'] = [];
  const refused: string[] = [];
  const wh = new Webhook(secret);
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        wh.verify(body, req.headers as Record<string, string>);
        got.push({ id: String(req.headers['webhook-id']), body: JSON.parse(body) });
        res.writeHead(204).end();
      } catch (err) {
        refused.push((err as Error).message);
        res.writeHead(401).end();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return { got, refused, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
