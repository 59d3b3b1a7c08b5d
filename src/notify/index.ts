/**
 * Notifications: owns telling the clinic's other systems what happened (a message left), as signed
 * webhooks delivered from the store's outbox (./webhook.ts).
 */
export { WebhookNotifier, RETRY_SCHEDULE_MS, type NotifierOptions } from './webhook.js';
