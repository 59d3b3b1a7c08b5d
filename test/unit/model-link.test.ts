/**
 * The voice model's link (src/voice/link.ts): the one decision of what a link end leads to, and the
 * link's own watchdogs — no reply once one is due, a tool without a result, a resume that never
 * comes up — each reported once, with its cause, on fake timers.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decideLinkEnd, describeLinkEnd, MAX_FAILURE_RESUMES, ModelLink, RESUME_TIMEOUT_MS, type LinkEnd, type LinkPolicy, type LinkSocket } from '../../src/voice/link.js';

const log = pino({ level: 'silent' });
const policy: LinkPolicy = { onFailure: 'keypad', replyTimeoutMs: 4000, toolTimeoutMs: 10_000 };

describe('decideLinkEnd', () => {
  const closed: LinkEnd = { kind: 'closed', code: 1000 };
  it('resumes an announced end (goAway) whenever the model can resume, whatever the policy and however many resumes', () => {
    expect(decideLinkEnd({ kind: 'go_away', timeLeft: '5s' }, { onFailure: 'keypad' }, { canResume: true, failureResumes: 99 })).toBe('resume');
    expect(decideLinkEnd({ kind: 'go_away' }, { onFailure: 'keypad' }, { canResume: false, failureResumes: 0 })).toBe('keypad');
  });
  it('follows MODEL_ON_FAILURE for a close, an error or a stall, resuming at most MAX_FAILURE_RESUMES times', () => {
    expect(decideLinkEnd(closed, { onFailure: 'keypad' }, { canResume: true, failureResumes: 0 })).toBe('keypad');
    expect(decideLinkEnd(closed, { onFailure: 'resume' }, { canResume: true, failureResumes: 0 })).toBe('resume');
    expect(decideLinkEnd({ kind: 'no_reply', waitedMs: 4000 }, { onFailure: 'resume' }, { canResume: true, failureResumes: MAX_FAILURE_RESUMES - 1 })).toBe('resume');
    expect(decideLinkEnd(closed, { onFailure: 'resume' }, { canResume: true, failureResumes: MAX_FAILURE_RESUMES })).toBe('keypad');
    expect(decideLinkEnd(closed, { onFailure: 'resume' }, { canResume: false, failureResumes: 0 })).toBe('keypad');
  });
  it('never resumes from a stuck tool or a resume that failed', () => {
    expect(decideLinkEnd({ kind: 'tool_unanswered', tool: 'confirm_appointment', waitedMs: 1 }, { onFailure: 'resume' }, { canResume: true, failureResumes: 0 })).toBe('keypad');
    expect(decideLinkEnd({ kind: 'resume_failed', waitedMs: 1 }, { onFailure: 'resume' }, { canResume: true, failureResumes: 0 })).toBe('keypad');
  });
  it('says each cause in words, close codes included', () => {
    expect(describeLinkEnd(closed)).toBe("the model's websocket closed (code 1000)");
    expect(describeLinkEnd({ kind: 'closed', code: 1011, reason: 'internal' })).toBe("the model's websocket closed (code 1011: internal)");
    expect(describeLinkEnd({ kind: 'no_reply', waitedMs: 4012 })).toBe('no reply from the model 4.0 s after one was due');
    expect(describeLinkEnd({ kind: 'go_away', timeLeft: '10s' })).toMatch(/goAway, 10s left/);
  });
});

describe('ModelLink', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function link(p: LinkPolicy = policy, resumable = true) {
    const seen: string[] = [];
    const resumes: LinkEnd[] = [];
    const l = new ModelLink(
      p,
      {
        failed: (_e, why) => seen.push(`failed: ${why}`),
        resuming: (_e, why) => seen.push(`resuming: ${why}`),
        resumed: (_e, why, _ms, cutOff) => seen.push(`resumed${cutOff ? ' (cut off)' : ''}: ${why}`),
      },
      log,
    );
    const socket: LinkSocket = { canResume: () => resumable, resume: (e) => resumes.push(e) };
    l.attach(socket);
    return { l, seen, resumes };
  }

  it('a reply asked for and never heard: lost after replyTimeoutMs, once', () => {
    const { l, seen } = link();
    l.expectReply();
    vi.advanceTimersByTime(3999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(['failed: no reply from the model 4.0 s after one was due']);
    expect(l.current).toBe('failed');
    // Later ends are not reported again.
    expect(l.ended({ kind: 'closed', code: 1000 })).toBe('ignored');
    expect(seen).toHaveLength(1);
  });

  it('audio ends the wait for a reply; other content does not end a wait for audio', () => {
    const { l, seen } = link();
    l.expectReply();
    vi.advanceTimersByTime(2000);
    l.activity('content');
    vi.advanceTimersByTime(1000);
    l.activity('audio');
    vi.advanceTimersByTime(10_000);
    expect(seen).toEqual([]);
  });

  it('after a tool returns, anything from the model ends the wait; a tool that runs too long loses the link', async () => {
    const { l, seen } = link();
    await l.tool('list_open_slots', async () => 'ok');
    vi.advanceTimersByTime(1000);
    l.activity('content');
    vi.advanceTimersByTime(10_000);
    expect(seen).toEqual([]);

    const stuck = l.tool('confirm_appointment', () => new Promise(() => undefined));
    const outcome = stuck.then(() => 'returned', (err: Error) => err.message);
    vi.advanceTimersByTime(10_000);
    expect(seen).toEqual(['failed: the confirm_appointment tool had no result after 10.0 s']);
    // The framework's tool executor gets an answer: closing the session must not wait for the stuck tool.
    expect(await outcome).toBe('the confirm_appointment tool took longer than 10 s');
  });

  it('a stuck tool counts while a new connection comes up', () => {
    const { l, seen } = link({ ...policy, onFailure: 'resume' });
    void l.tool('cancel_appointment', () => new Promise(() => undefined)).catch(() => undefined);
    vi.advanceTimersByTime(5000);
    l.ended({ kind: 'closed', code: 1006 });
    vi.advanceTimersByTime(5000);
    expect(seen.at(-1)).toBe('failed: the cancel_appointment tool had no result after 10.0 s');
  });

  it('a reply due while the connection was down gets its whole time once the new one is up; an answer cut off is said so', () => {
    const { l, seen } = link({ ...policy, onFailure: 'resume' });
    l.activity('audio'); // the model is answering
    l.ended({ kind: 'go_away' });
    l.expectReply();
    vi.advanceTimersByTime(3000);
    l.opened();
    vi.advanceTimersByTime(3999);
    expect(seen.some((x) => x.startsWith('failed'))).toBe(false);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([
      "resuming: the model's server announced the end of the connection (goAway)",
      "resumed (cut off): the model's server announced the end of the connection (goAway)",
      'resuming: no reply from the model 4.0 s after one was due', // MODEL_ON_FAILURE=resume: a second try
    ]);
  });

  it('an answer whose turn had ended is not cut off by a later end', () => {
    const { l, seen } = link();
    l.activity('audio');
    l.turnEnded();
    l.ended({ kind: 'go_away' });
    l.opened();
    expect(seen.at(-1)).toBe("resumed: the model's server announced the end of the connection (goAway)");
  });

  it('resume: a new connection is asked for, and the link is up again once it opens', () => {
    const { l, seen, resumes } = link({ ...policy, onFailure: 'resume' });
    expect(l.ended({ kind: 'closed', code: 1006 })).toBe('resume');
    expect(resumes).toHaveLength(1);
    expect(l.current).toBe('resuming');
    // The old connection's other reports while resuming are part of the resume.
    expect(l.ended({ kind: 'socket_error', message: 'reset' })).toBe('ignored');
    l.opened();
    expect(l.current).toBe('up');
    expect(seen).toEqual(["resuming: the model's websocket closed (code 1006)", "resumed: the model's websocket closed (code 1006)"]);
  });

  it('a resume that does not come up in time hands the call to keypad mode', () => {
    const { l, seen } = link({ ...policy, onFailure: 'resume' });
    l.ended({ kind: 'model_error', message: 'overloaded' });
    vi.advanceTimersByTime(RESUME_TIMEOUT_MS);
    expect(seen.at(-1)).toBe(`failed: no new connection to the model within ${(RESUME_TIMEOUT_MS / 1000).toFixed(1)} s`);
  });

  it('failures beyond MAX_FAILURE_RESUMES go to keypad mode; goAways do not count', () => {
    const { l, seen } = link({ ...policy, onFailure: 'resume' });
    for (let i = 0; i < 3; i++) {
      expect(l.ended({ kind: 'go_away' })).toBe('resume');
      l.opened();
    }
    for (let i = 0; i < MAX_FAILURE_RESUMES; i++) {
      expect(l.ended({ kind: 'closed', code: 1011 })).toBe('resume');
      l.opened();
    }
    expect(l.ended({ kind: 'closed', code: 1011 })).toBe('keypad');
    expect(seen.at(-1)).toBe("failed: the model's websocket closed (code 1011)");
  });

  it('a closed link reports nothing more, and its timers are stopped', () => {
    const { l, seen } = link();
    l.expectReply();
    void l.tool('cancel_appointment', () => new Promise(() => undefined));
    l.close();
    vi.advanceTimersByTime(60_000);
    expect(l.ended({ kind: 'closed', code: 1000 })).toBe('ignored');
    expect(seen).toEqual([]);
  });
});
