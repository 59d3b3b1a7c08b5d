/**
 * Notifications to the clinic's own systems: owns delivering the outbox (src/store/messages.ts) to
 * `NOTIFY_WEBHOOK_URL` as JSON POSTs signed per the Standard Webhooks specification (the
 * `standardwebhooks` package; https://www.standardwebhooks.com), retried on a schedule until the
 * receiver answers 2xx. The worker's main process runs one {@link WebhookNotifier}; what it sends was
 * saved by the calls, so a receiver that is down, or a worker that restarts, loses nothing.
 */
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Outbox, OutboxRow } from '../store/index.js';

/**
 * Wait before each retry, ms: the schedule Standard Webhooks' reference implementation (Svix) uses —
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h — and then every 10 h until delivered.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/** Options of {@link WebhookNotifier}. */
export interface NotifierOptions {
  readonly outbox: Outbox;
  /** The receiver, http(s). */
  readonly url: string;
  /** The Standard Webhooks secret, `whsec_…`. */
  readonly secret: string;
  readonly log: Logger;
  /** Waits before each retry, ms (default {@link RETRY_SCHEDULE_MS}; the last repeats). */
  readonly schedule?: readonly number[];
  /** How often the outbox is looked at, ms (default 2000). */
  readonly pollMs?: number;
  /** How long one POST may take, ms (default 10 000). */
  readonly timeoutMs?: number;
}

/** Delivers the outbox: each notification once the receiver answers 2xx, retried on a schedule until it does. */
export class WebhookNotifier {
  private readonly webhook: Webhook;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** @throws Error when `secret` is not a Standard Webhooks secret (the configuration checks it first). */
  constructor(private readonly o: NotifierOptions) {
    this.webhook = new Webhook(o.secret);
  }

  /** Starts looking at the outbox every `pollMs`. */
  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      // Never what keeps the process alive: the worker exits when its calls are done.
      this.timer = setTimeout(() => void this.deliverDue().finally(tick), this.o.pollMs ?? 2000).unref();
    };
    void this.deliverDue().finally(tick);
  }

  /** Stops, after the delivery under way (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Delivers every notification due now, one at a time; never throws (a failure is saved and logged). */
  deliverDue(now = new Date()): Promise<void> {
    this.running ??= this.deliverAll(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async deliverAll(now: Date): Promise<void> {
    let due: OutboxRow[];
    try {
      due = await this.o.outbox.due(now);
    } catch (err) {
      this.o.log.error({ err }, 'notification outbox could not be read');
      return;
    }
    for (const row of due) {
      if (this.stopped) return;
      await this.deliver(row);
    }
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const at = new Date();
    let error: string | undefined;
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': row.event_id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': this.webhook.sign(row.event_id, at, row.payload),
        },
        body: row.payload,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      error = e.name === 'TimeoutError' ? `no answer in ${(this.o.timeoutMs ?? 10_000) / 1000} s` : (e.cause?.code ?? e.message);
    }
    try {
      if (error === undefined) {
        await this.o.outbox.delivered(row.id);
        this.o.log.info({ event: row.event_id, type: row.type, attempts: row.attempts + 1 }, 'notification delivered');
        return;
      }
      const schedule = this.o.schedule ?? RETRY_SCHEDULE_MS;
      const waitMs = schedule[Math.min(row.attempts, schedule.length - 1)]!;
      await this.o.outbox.failed(row.id, error, new Date(Date.now() + waitMs));
      this.o.log.warn({ event: row.event_id, type: row.type, attempts: row.attempts + 1, error, retryInS: waitMs / 1000 }, 'notification not delivered; will retry');
    } catch (err) {
      // Not saved: it stays due and is sent again (the receiver drops a repeated webhook-id).
      this.o.log.error({ err, event: row.event_id }, 'notification result could not be saved');
    }
  }
}
