/**
 * A campaign's rules (src/outbound/campaign.ts) over a real SQLite store, with a clock the test
 * moves and calls whose outcomes the test decides: retries, calling hours in the callee's zone,
 * the do-not-call list, claims that survive a dialer dying, pacing; and what the dialer prints.
 */
import { DateTime } from 'luxon';
import { FINAL_OUTCOMES, type FinalOutcome } from '../../src/call/index.js';
import { describe, expect, it } from 'vitest';
import { nextOpening, parseOpeningHours } from '../../src/config/index.js';
import {
  calleeZone,
  campaignReport,
  eventJson,
  eventLine,
  reportCsv,
  runCampaign,
  summarize,
  type CampaignCalls,
  type CampaignEvent,
  type CampaignSettings,
  type Clock,
} from '../../src/outbound/index.js';
import { numberTimeZone } from '../../src/phone/index.js';
import { openSqliteStore, type CallOutcome, type CallRecord, type CampaignTarget, type SqlStore } from '../../src/store/index.js';

/** Virtual time: `sleep` resolves when the test's time reaches it; time jumps to the next sleeper once the others are idle. */
class TestClock implements Clock {
  private timers: { at: number; resolve: () => void }[] = [];
  private ticking = false;
  constructor(private t: number) {}
  now(): Date {
    return new Date(this.t);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ at: this.t + Math.max(0, ms), resolve });
      this.tick();
    });
  }
  private tick() {
    if (this.ticking) return;
    this.ticking = true;
    // A few real milliseconds: everything else under way (the store's queries) runs first.
    setTimeout(() => {
      this.ticking = false;
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.resolve();
      if (this.timers.length) this.tick();
    }, 3);
  }
}

const SETTINGS: CampaignSettings = { maxAttempts: 3, retryAfterS: 7200, callingHours: 'Mon-Sun 08:00-21:00', delayMs: 0, concurrency: 1 };
const NY = 'America/New_York';
/** Monday 2026-11-23, 10:00 in New York. */
const START = DateTime.fromISO('2026-11-23T10:00:00', { zone: NY }).toMillis();

interface Placed {
  readonly appointmentId: string;
  readonly room: string;
  readonly at: number;
}

/** Calls that end at once (after `callMs` of the test's time) with the outcomes listed per appointment, in turn. */
function scriptedCalls(store: SqlStore, clock: TestClock, outcomes: Record<string, (CallOutcome | 'throw')[]>, callMs = 30_000) {
  const placed: Placed[] = [];
  const calls: CampaignCalls = {
    roomFor: (t, at) => `confirm-${t.appointment_id}-${at.getTime()}`,
    async place(target, room) {
      const outcome = outcomes[target.appointment_id]!.shift();
      if (outcome === 'throw') throw new Error('LiveKit unreachable');
      placed.push({ appointmentId: target.appointment_id, room, at: clock.now().getTime() });
      const record = await store.startCall({ room, direction: 'outbound', mode: 'keypad', phoneE164: target.phone_e164, appointmentId: target.appointment_id });
      await clock.sleep(callMs);
      const final = (FINAL_OUTCOMES as readonly string[]).includes(outcome ?? 'hung_up');
      if (!final) await store.setCallOutcome(record.id, outcome!);
      return (await store.endCall(record.id, final ? { outcome: (outcome ?? 'hung_up') as FinalOutcome, sipStatus: outcome === 'busy' ? 486 : undefined } : {}))!;
    },
    async recover(target) {
      return (await store.callsInRoom(target.room!)).find((r) => r.ended_at);
    },
    async stale() {
      return undefined;
    },
  };
  return { calls, placed };
}

async function campaignOf(store: SqlStore, targets: { id: string; phone: string; zone?: string }[], at = START) {
  return store.campaigns.create({
    source: 'test',
    sourceKey: `test:${Math.random()}`,
    settings: SETTINGS,
    at: new Date(at),
    targets: targets.map((t) => ({ appointmentId: t.id, phoneE164: t.phone, timezone: t.zone ?? NY, timezoneSource: 'patient' })),
  });
}

async function run(store: SqlStore, campaignId: string, clock: TestClock, calls: CampaignCalls, settings: Partial<CampaignSettings> = {}, wait = true) {
  const events: CampaignEvent[] = [];
  const s = { ...SETTINGS, ...settings };
  const end = await runCampaign(store, campaignId, { settings: s, hours: parseOpeningHours(s.callingHours), calls, clock, wait, onEvent: (e) => events.push(e) });
  return { end, events };
}

const byId = async (store: SqlStore, campaignId: string) => Object.fromEntries((await store.campaigns.targets(campaignId)).map((t) => [t.appointment_id, t]));

describe('a campaign: retries', () => {
  it('busy, then busy, then answered: three attempts, 2 h apart, the outcome from the third', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const c = await campaignOf(store, [{ id: 'a1', phone: '+12125550101' }]);
    const { calls, placed } = scriptedCalls(store, clock, { a1: ['busy', 'busy', 'confirmed'] });
    const { end, events } = await run(store, c.id, clock, calls);
    expect(end).toEqual({ finished: true });
    expect(placed).toHaveLength(3);
    expect(placed[1]!.at - placed[0]!.at).toBeGreaterThanOrEqual(7200_000);
    expect(placed[2]!.at - placed[1]!.at).toBeGreaterThanOrEqual(7200_000);
    const t = (await byId(store, c.id)).a1!;
    expect(t).toMatchObject({ state: 'done', attempts: 3, last_outcome: 'confirmed' });
    expect(events.filter((e) => e.type === 'ended').map((e) => (e.type === 'ended' ? [e.attempt, e.record.outcome, !!e.retryAt] : []))).toEqual([
      [1, 'busy', true],
      [2, 'busy', true],
      [3, 'confirmed', false],
    ]);
    expect((await store.campaigns.get(c.id))!.finished_at).not.toBeNull();
  });

  it('an invalid number or a rejection: one attempt; busy every time: --max-attempts in all', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const c = await campaignOf(store, [
      { id: 'bad', phone: '+12125550102' },
      { id: 'no', phone: '+12125550103' },
      { id: 'busy', phone: '+12125550104' },
      { id: 'vm', phone: '+12125550105' },
    ]);
    const { calls, placed } = scriptedCalls(store, clock, { bad: ['invalid_number'], no: ['rejected'], busy: ['busy', 'busy', 'busy', 'busy'], vm: ['voicemail', 'no_answer'] });
    await run(store, c.id, clock, calls, { maxAttempts: 2 });
    const t = await byId(store, c.id);
    expect([t.bad, t.no, t.busy, t.vm].map((x) => [x!.state, x!.attempts, x!.last_outcome])).toEqual([
      ['done', 1, 'invalid_number'],
      ['done', 1, 'rejected'],
      ['done', 2, 'busy'],
      ['done', 2, 'no_answer'],
    ]);
    expect(placed).toHaveLength(6);
  });

  it('--no-wait: stops when only retries are left, and a later run places them when due', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const c = await campaignOf(store, [{ id: 'a1', phone: '+12125550106' }]);
    const { calls, placed } = scriptedCalls(store, clock, { a1: ['no_answer', 'confirmed'] });
    const first = await run(store, c.id, clock, calls, {}, false);
    expect(first.end.finished).toBe(false);
    expect(placed).toHaveLength(1);
    // Run again before the retry is due: nothing placed.
    expect((await run(store, c.id, clock, calls, {}, false)).end.finished).toBe(false);
    expect(placed).toHaveLength(1);
    await clock.sleep(7200_000);
    expect((await run(store, c.id, clock, calls, {}, false)).end).toEqual({ finished: true });
    expect(placed.map((p) => p.appointmentId)).toEqual(['a1', 'a1']);
  });
});

describe('a campaign: calling hours in the callee\'s zone', () => {
  it('a callee where it is 21:30 is not dialed then, and is dialed when their 08:00 comes; one in New York at once', async () => {
    const store = await openSqliteStore(':memory:');
    // 10:00 in New York is 00:00 in Tokyo (closed until 08:00 there) and 07:00 in Los Angeles.
    const clock = new TestClock(START);
    const c = await campaignOf(store, [
      { id: 'tokyo', phone: '+81312345678', zone: 'Asia/Tokyo' },
      { id: 'ny', phone: '+12125550107', zone: NY },
      { id: 'la', phone: '+14155550108', zone: 'America/Los_Angeles' },
    ]);
    const { calls, placed } = scriptedCalls(store, clock, { tokyo: ['confirmed'], ny: ['confirmed'], la: ['confirmed'] });
    const { events } = await run(store, c.id, clock, calls);
    const when = Object.fromEntries(placed.map((p) => [p.appointmentId, p.at]));
    expect(DateTime.fromMillis(when.ny!, { zone: NY }).toFormat('HH:mm')).toBe('10:00');
    expect(DateTime.fromMillis(when.la!, { zone: 'America/Los_Angeles' }).toFormat('HH:mm')).toBe('08:00');
    expect(DateTime.fromMillis(when.tokyo!, { zone: 'Asia/Tokyo' }).toFormat('HH:mm')).toBe('08:00');
    const deferred = events.filter((e) => e.type === 'deferred').map((e) => (e.type === 'deferred' ? e.target.appointment_id : ''));
    expect(deferred.sort()).toEqual(['la', 'tokyo']);
    expect(events.find((e) => e.type === 'deferred' && e.target.appointment_id === 'tokyo')).toMatchObject({ reason: expect.stringContaining('Asia/Tokyo') });
  });

  it('a retry that falls after 21:00 waits for the next morning', async () => {
    const store = await openSqliteStore(':memory:');
    const at = DateTime.fromISO('2026-11-23T19:30:00', { zone: NY }).toMillis();
    const clock = new TestClock(at);
    const c = await campaignOf(store, [{ id: 'a1', phone: '+12125550109' }], at);
    const { calls, placed } = scriptedCalls(store, clock, { a1: ['busy', 'confirmed'] });
    await run(store, c.id, clock, calls);
    expect(placed.map((p) => DateTime.fromMillis(p.at, { zone: NY }).toFormat('ccc HH:mm'))).toEqual(['Mon 19:30', 'Tue 08:00']);
  });

  it('hours that never open are a skip, not a wait forever', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    // Both zones' 08:00-09:00 never overlap: a number in both at once could never be called.
    expect(nextOpening(parseOpeningHours('Mon-Sun 08:00-09:00'), DateTime.fromMillis(START), [NY, 'Asia/Tokyo'])).toBeUndefined();
    const c = await campaignOf(store, [{ id: 'a1', phone: '+12125550110' }]);
    const { calls, placed } = scriptedCalls(store, clock, { a1: ['confirmed'] });
    await run(store, c.id, clock, calls, { callingHours: 'Sat 09:00-10:00; Sun 09:00-10:00' });
    expect(placed).toHaveLength(1); // Saturday comes: not a skip
    expect(DateTime.fromMillis(placed[0]!.at, { zone: NY }).toFormat('ccc HH:mm')).toBe('Sat 09:00');
  });
});

describe('nextOpening', () => {
  const hours = parseOpeningHours('Mon-Fri 08:00-21:00; Sat 10:00-14:00');
  const at = (iso: string) => DateTime.fromISO(iso, { zone: NY });
  it('now when open; else the next range start, across days and the weekend', () => {
    expect(nextOpening(hours, at('2026-11-23T12:00'), [NY])!.toISO()).toBe(at('2026-11-23T12:00').toISO());
    expect(nextOpening(hours, at('2026-11-23T07:59'), [NY])!.toISO()).toBe(at('2026-11-23T08:00').toISO());
    expect(nextOpening(hours, at('2026-11-27T21:00'), [NY])!.toISO()).toBe(at('2026-11-28T10:00').toISO());
    expect(nextOpening(hours, at('2026-11-28T14:00'), [NY])!.toISO()).toBe(at('2026-11-30T08:00').toISO());
  });
  it('with several zones, only when open in all of them', () => {
    // 08:00 in Los Angeles is 11:00 in New York: both open from then.
    expect(nextOpening(hours, at('2026-11-23T07:00'), [NY, 'America/Los_Angeles'])!.toMillis()).toBe(at('2026-11-23T11:00').toMillis());
  });
});

describe('whose clock: the callee\'s zone', () => {
  it('the patient\'s stored zone, else the number\'s region, else the clinic\'s', async () => {
    expect(await calleeZone('Europe/Paris', '+12125550123', 'America/Chicago')).toEqual({ zone: 'Europe/Paris', source: 'patient' });
    expect(await calleeZone(null, '+12125550123', 'America/Chicago')).toEqual({ zone: NY, source: 'number' });
    expect(await calleeZone('Not/AZone', '+14155550123', 'America/Chicago')).toEqual({ zone: 'America/Los_Angeles', source: 'number' });
    // +1 555 could be anywhere in the +1 plan (Guam to Newfoundland): the clinic's zone.
    expect(await numberTimeZone('+15555550123')).toBeUndefined();
    expect(await calleeZone(null, '+15555550123', 'America/Chicago')).toEqual({ zone: 'America/Chicago', source: 'clinic' });
    // Zones with one offset all year count as one.
    expect(await numberTimeZone('+447911123456')).toMatch(/^Europe\/(London|Guernsey|Isle_of_Man)$/);
  });
});

describe('a campaign: the do-not-call list', () => {
  it('a listed number is never dialed, reported as skipped; one listed after a busy call is not dialed again', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    expect(await store.doNotCall.add({ phoneE164: '+12125550111', source: 'manual', reason: 'asked by letter' })).toBe(true);
    expect(await store.doNotCall.add({ phoneE164: '+12125550111', source: 'import' })).toBe(false); // the first entry stays
    const c = await campaignOf(store, [
      { id: 'listed', phone: '+12125550111' },
      { id: 'later', phone: '+12125550112' },
    ]);
    const { calls, placed } = scriptedCalls(store, clock, { listed: ['confirmed'], later: ['busy', 'confirmed'] });
    const events: CampaignEvent[] = [];
    await runCampaign(store, c.id, {
      settings: SETTINGS,
      hours: parseOpeningHours(SETTINGS.callingHours),
      clock,
      wait: true,
      calls: {
        ...calls,
        place: async (t, room) => {
          const r = await calls.place(t, room);
          // The patient asks not to be called again during their first (busy) call's retry wait.
          if (t.appointment_id === 'later') await store.doNotCall.add({ phoneE164: t.phone_e164, source: 'keypad', callId: r.id });
          return r;
        },
      },
      onEvent: (e) => events.push(e),
    });
    expect(placed.map((p) => p.appointmentId)).toEqual(['later']);
    const t = await byId(store, c.id);
    expect(t.listed).toMatchObject({ state: 'skipped', attempts: 0, detail: expect.stringContaining('do-not-call list') });
    expect(t.later).toMatchObject({ state: 'skipped', attempts: 1, last_outcome: 'busy' });
    expect(events.filter((e) => e.type === 'skipped')).toHaveLength(2);
    expect((await store.doNotCall.list()).map((e) => [e.phone_e164, e.source])).toEqual([
      ['+12125550111', 'manual'],
      ['+12125550112', 'keypad'],
    ]);
  });
});

describe('a campaign: a dialer that dies and starts again', () => {
  it('a target claimed by the dead dialer whose call ended is taken from its record, never dialed again; one claimed but never placed is dialed once', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const c = await campaignOf(store, [
      { id: 'done-call', phone: '+12125550113' },
      { id: 'never-placed', phone: '+12125550114' },
      { id: 'untouched', phone: '+12125550115' },
    ]);
    const t = await byId(store, c.id);
    // The dead dialer claimed two: one call was placed (the worker saw it through), one was not.
    expect(await store.campaigns.claim(t['done-call']!.id, 'room-1', new Date(START))).toBe(true);
    expect(await store.campaigns.claim(t['done-call']!.id, 'room-1b', new Date(START))).toBe(false); // claimed once
    const rec = await store.startCall({ room: 'room-1', direction: 'outbound', mode: 'keypad', phoneE164: '+12125550113', appointmentId: 'done-call' });
    await store.setCallOutcome(rec.id, 'confirmed');
    await store.endCall(rec.id);
    expect(await store.campaigns.claim(t['never-placed']!.id, 'room-2', new Date(START))).toBe(true);

    const { calls, placed } = scriptedCalls(store, clock, { 'done-call': ['confirmed'], 'never-placed': ['confirmed'], untouched: ['confirmed'] });
    const { events } = await run(store, c.id, clock, calls);
    expect(placed.map((p) => p.appointmentId).sort()).toEqual(['never-placed', 'untouched']);
    const after = await byId(store, c.id);
    expect(after['done-call']).toMatchObject({ state: 'done', attempts: 1, last_outcome: 'confirmed' });
    expect(after['never-placed']).toMatchObject({ state: 'done', attempts: 1 });
    expect(events.find((e) => e.type === 'ended' && e.recovered)).toBeDefined();
    expect(events.find((e) => e.type === 'released')).toMatchObject({ target: { appointment_id: 'never-placed' } });
  });

  it('LiveKit failing stops the campaign, its target not counted as dialed; the next run places it', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const c = await campaignOf(store, [
      { id: 'a1', phone: '+12125550116' },
      { id: 'a2', phone: '+12125550117' },
    ]);
    const { calls, placed } = scriptedCalls(store, clock, { a1: ['confirmed'], a2: ['throw', 'confirmed'] });
    await expect(run(store, c.id, clock, calls)).rejects.toThrow('LiveKit unreachable');
    expect((await byId(store, c.id)).a2).toMatchObject({ state: 'pending', attempts: 0 });
    await run(store, c.id, clock, calls);
    expect(placed.map((p) => p.appointmentId)).toEqual(['a1', 'a2']);
  });
});

describe('a campaign: pacing', () => {
  it('starts at least the delay apart, never more than the cap at once', async () => {
    const store = await openSqliteStore(':memory:');
    const clock = new TestClock(START);
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const c = await campaignOf(store, ids.map((id, i) => ({ id, phone: `+1212555012${i}` })));
    const { calls, placed } = scriptedCalls(store, clock, Object.fromEntries(ids.map((id) => [id, ['confirmed']])), 60_000);
    await run(store, c.id, clock, calls, { delayMs: 10_000, concurrency: 2 });
    const starts = placed.map((p) => p.at).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(10_000);
    const most = Math.max(...starts.map((s) => starts.filter((x) => x <= s && s < x + 60_000).length));
    expect(most).toBe(2);
  });
});

describe('what the dialer prints and reports', () => {
  const target = (over: Partial<CampaignTarget>): CampaignTarget => ({
    id: 1,
    campaign_id: 'c',
    position: 0,
    appointment_id: 'a1',
    phone_e164: '+14157770142',
    timezone: NY,
    timezone_source: 'number',
    state: 'done',
    attempts: 1,
    next_at: '2026-11-23T15:00:00.000Z',
    room: 'confirm-a1-1',
    claimed_at: null,
    last_outcome: 'confirmed',
    last_sip_status: null,
    last_attempt_at: '2026-11-23T15:00:00.000Z',
    detail: null,
    updated_at: '2026-11-23T15:00:00.000Z',
    ...over,
  });
  const FULL = /4157770142/;

  it('counts targets by their latest call', () => {
    const s = summarize(
      [
        target({}),
        target({ attempts: 3, last_outcome: 'busy' }),
        target({ attempts: 2, last_outcome: 'voicemail' }),
        target({ last_outcome: 'opted_out' }),
        target({ state: 'skipped', attempts: 0, last_outcome: null }),
        target({ state: 'pending', attempts: 1, last_outcome: 'no_answer' }),
        target({ last_outcome: 'reschedule_requested' }),
      ],
      2,
    );
    expect(s).toEqual({ targets: 7, placed: 9, answered: 3, confirmed: 1, rescheduled: 1, voicemail: 1, optedOut: 1, failed: { busy: 1, no_answer: 1 }, skipped: 3, pending: 1 });
  });

  it('lines and JSON lines show numbers with their last 4 digits only; the CSV report has the full number and RFC 4180 quoting', () => {
    const record = { room: 'confirm-a1-1', outcome: 'failed', sip_status: null, error: 'INVITE to +14157770142 failed', started_at: 'x', ended_at: 'y' } as unknown as CallRecord;
    const events: CampaignEvent[] = [
      { type: 'ended', target: target({}), record, attempt: 1, recovered: false },
      { type: 'skipped', target: target({}), reason: 'on the do-not-call list' },
      { type: 'deferred', target: target({}), until: new Date(START), reason: 'outside calling hours' },
      { type: 'dialing', target: target({}), room: 'r', attempt: 2, at: new Date(START) },
    ];
    for (const e of events) {
      expect(eventLine(e)).toContain('+*******0142');
      expect(eventLine(e)).not.toMatch(FULL);
      expect(JSON.stringify(eventJson(e))).not.toMatch(FULL);
    }
    expect(eventLine(events[0]!)).toBe('+*******0142 appointment a1: failed — INVITE to +*******0142 failed (attempt 1)');
    expect(JSON.stringify(campaignReport('c', true, [target({ detail: 'called +14157770142' })], []))).not.toMatch(FULL);
    const csv = reportCsv([target({ detail: 'deferred: "Mon 08:00", there' })]);
    expect(csv.split('\r\n')[0]).toBe('appointment_id,phone_number,state,attempts,last_outcome,sip_status,last_attempt_at,next_attempt_at,timezone,detail');
    expect(csv.split('\r\n')[1]).toBe('a1,+14157770142,done,1,confirmed,,2026-11-23T15:00:00.000Z,,America/New_York,"deferred: ""Mon 08:00"", there"');
  });
});
