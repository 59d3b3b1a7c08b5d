/**
 * The voice model's tools: each one changes the real records through the store's booking
 * operations (the same ones the keypad uses, with the same rules), and only then returns what it
 * did. A change and the call's outcome are saved in one transaction (the booking operation is given
 * the call's id and the outcome); once it has committed the tool tells the call, and a failure to
 * tell it is logged, never reported as a failed change. A request the rules refuse (a slot in the
 * past or of another provider, a callback too far ahead…) changes nothing, and the tool's answer
 * says plainly why, for the model to tell the caller. The model only hears facts from the store:
 * slots are listed from `slots`, never made up.
 *
 * No tool looks up or changes anything for a caller who has not proved who they are: until
 * `verify_identity` has succeeded in this call (or the caller passed the keypad check) each answers
 * with a ToolError telling the model to verify first (src/call/verification.ts). Only
 * `request_operator` (or, where the call takes messages, `transfer_to_operator` and `take_message`),
 * `opt_out` on calls we place (anyone who answers may ask not to be called) and ending the call work before it.
 *
 * Every tool may be called twice with the same arguments (a model retrying) without logging its
 * change twice: confirming, cancelling or moving to the slot the appointment already has changes
 * nothing the second time, and a call keeps one pending callback per appointment (see
 * `Booking.requestCallback`).
 */
import { beta, llm } from '@livekit/agents';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { patientOf, someoneElseFacts, type CallOutcome, type IdentityStep, type Situation, type ToolScope } from '../call/index.js';
import { CALLBACK_WINDOW_DAYS, type ChangeContext, type RescheduleResult } from '../store/booking.js';
import { appointmentInWords } from '../speech/words.js';
import { factsOf } from './instructions.js';

/** The change context of a tool: this call, by voice, and the outcome its success gives the call. */
const voiceChange = (s: ToolScope, outcome?: CallOutcome): ChangeContext => ({ callId: s.callId, source: 'voice', outcome });

/**
 * Tells the call that a tool's change is saved (the outcome is already on the record, saved with the
 * change). The change is made whatever happens here: a failure is logged, not thrown.
 */
async function tell(s: ToolScope, tool: string, outcome: CallOutcome): Promise<void> {
  try {
    await s.changed(outcome);
  } catch (err) {
    s.log.error({ err, tool, outcome }, 'the change is saved, but the call could not be told');
  }
}

/**
 * What a tool says while the caller has not proved who they are: verify first. The model is told
 * how, for the check of this call.
 */
export function verifyFirst(s: Situation): string {
  const how =
    s.kind === 'unverified' && s.method === 'name'
      ? 'ask whether you are speaking with the patient you called for, and call verify_identity with the answer'
      : 'ask for their date of birth and call verify_identity with it';
  return `The caller has not proved who they are yet: verify first — ${how}. Say nothing about any patient or appointment until it succeeds.`;
}

/** Nothing for a caller who has not proved who they are. @throws llm.ToolError saying to verify first, or that they could not. */
function verified(s: ToolScope): void {
  if (s.situation.kind === 'unverified') throw new llm.ToolError(verifyFirst(s.situation));
  if (s.situation.kind === 'not_verified') {
    throw new llm.ToolError('The caller could not prove who they are: nothing can be looked up or changed on this call. Say so, and offer the operator.');
  }
}

/** The appointment the call is about. @throws llm.ToolError when the caller has not proved who they are, or has none on file. */
function appointmentOf(s: ToolScope) {
  verified(s);
  if (s.situation.kind !== 'appointment') throw new llm.ToolError('There is no appointment on file for this caller. Offer the operator instead.');
  return s.situation.appointment;
}

/** The patient on the line. @throws llm.ToolError when the caller has not proved who they are, or is not in our records. */
function patientOfCall(s: ToolScope) {
  verified(s);
  const patient = patientOf(s.situation);
  if (!patient) throw new llm.ToolError('The caller is not in our records; nothing can be saved for them.');
  return patient;
}

/**
 * When the appointment is now, in words, read after a change has committed (a reschedule earlier
 * in the call moved it). Falls back to `known` when the read fails: the change is made either way.
 */
async function appointmentNow(s: ToolScope, known: { id: string; starts_at: string; timezone: string }): Promise<string> {
  try {
    const now = (await s.store.getAppointment(known.id)) ?? known;
    return appointmentInWords(now.starts_at, now.timezone);
  } catch (err) {
    s.log.warn({ err }, 'could not read the appointment back after a change');
    return appointmentInWords(known.starts_at, known.timezone);
  }
}

/** Why a reschedule was refused, in a sentence the model can tell the caller, with what to do next. */
const RESCHEDULE_REFUSED: Record<Exclude<RescheduleResult, 'rescheduled'>, string> = {
  already_in_slot: 'The appointment is already at that time; nothing changed.',
  slot_taken: 'Someone else has just taken that slot, so the appointment was not moved. List the open slots again and offer another one.',
  slot_not_found: 'There is no slot with that id, so the appointment was not moved. Use a slot_id from list_open_slots.',
  slot_in_past: 'That slot\'s time has already passed, so the appointment was not moved. List the open slots again and offer a later one.',
  other_provider:
    'That slot is with a different provider, and an appointment can only move to another time with the same provider, so it was not moved. Offer one of the slots from list_open_slots.',
  cancelled: 'This appointment has been cancelled, so it cannot be moved. Offer the operator to book a new one.',
  not_found: 'This appointment is no longer in our records, so it cannot be moved. Offer the operator.',
};

/**
 * A callback time as the model gives it: ISO-8601 with a date and a time; without an offset it is
 * read in the appointment's zone (the caller's local time).
 * @throws llm.ToolError saying what to send instead.
 */
function callbackTime(text: string, timezone: string): Date {
  const t = DateTime.fromISO(text, { zone: timezone });
  if (!/T\d{2}:\d{2}/.test(text) || !t.isValid) {
    throw new llm.ToolError(`callback_at "${text}" is not an ISO-8601 date and time such as 2026-11-23T17:00:00-08:00: ask the caller for the day and time again.`);
  }
  return t.toJSDate();
}

/**
 * The tools of one call, as an array for `voice.Agent({ tools })`. The framework's end-call tool
 * (`beta.createEndCallTool`) ends it: the goodbye plays, then the room is deleted.
 */
export function appointmentTools(s: ToolScope) {
  const confirm = llm.tool({
    name: 'confirm_appointment',
    description: 'Confirm the caller\'s appointment when they say they will come.',
    execute: async () => {
      const a = appointmentOf(s);
      const result = await s.store.booking.confirm(a.id, voiceChange(s, 'confirmed'));
      s.log.info({ tool: 'confirm_appointment', result }, 'tool ran');
      if (result === 'cancelled') return { result, why: 'This appointment has been cancelled, so it cannot be confirmed. Offer the operator to book a new one.' };
      if (result === 'not_found') return { result, why: 'This appointment is no longer in our records. Offer the operator.' };
      await tell(s, 'confirm_appointment', 'confirmed');
      return { result, appointment: await appointmentNow(s, a) };
    },
  });

  const confirmWithCallback = llm.tool({
    name: 'confirm_with_callback',
    description:
      `The caller will confirm only after checking something: save a callback at the time they give (in the future, at most ${CALLBACK_WINDOW_DAYS} days ahead), with the reason. Use ISO-8601 with offset for callback_at.`,
    parameters: z.object({
      callback_at: z.string().describe('When to call back, ISO-8601 with time zone offset, e.g. 2026-11-23T17:00:00-08:00'),
      reason: z.string().min(1).describe('What the caller needs to check first'),
    }),
    execute: async ({ callback_at, reason }) => {
      const a = appointmentOf(s);
      const at = callbackTime(callback_at, a.timezone);
      // No call outcome names a pending callback: the call's outcome stays as it is.
      const saved = await s.store.booking.requestCallback(a.id, at, reason, voiceChange(s));
      s.log.info({ tool: 'confirm_with_callback', result: saved.result }, 'tool ran');
      const when = appointmentInWords(at.toISOString(), a.timezone);
      switch (saved.result) {
        case 'callback_saved':
        case 'already_requested':
          return {
            result: saved.result,
            callbackId: saved.callbackId,
            callbackAt: when,
            ...('replaces' in saved && saved.replaces ? { replaces: appointmentInWords(saved.replaces, a.timezone) } : {}),
          };
        case 'callback_in_past':
          return {
            result: saved.result,
            why: `${when} has already passed (it is now ${appointmentInWords(new Date().toISOString(), a.timezone)}), so no callback was saved. Ask the caller for a time later than now.`,
          };
        case 'callback_too_far':
          return {
            result: saved.result,
            why: `${when} is more than ${CALLBACK_WINDOW_DAYS} days away, and the clinic only calls back within ${CALLBACK_WINDOW_DAYS} days, so no callback was saved. Ask the caller for an earlier time.`,
          };
        case 'cancelled':
          return { result: saved.result, why: 'This appointment has been cancelled, so there is nothing to confirm later. Offer the operator to book a new one.' };
        case 'not_found':
          return { result: saved.result, why: 'This appointment is no longer in our records. Offer the operator.' };
      }
    },
  });

  const listOpenSlots = llm.tool({
    name: 'list_open_slots',
    description: 'List the next free appointment slots of the caller\'s provider, to offer when they want to reschedule.',
    execute: async () => {
      const a = appointmentOf(s);
      const slots = await s.store.booking.openSlots(a.provider_id);
      s.log.info({ tool: 'list_open_slots', count: slots.length }, 'tool ran');
      return { slots: slots.map((x) => ({ slot_id: x.id, when: appointmentInWords(x.starts_at, x.timezone), location: x.location })) };
    },
  });

  const reschedule = llm.tool({
    name: 'reschedule_appointment',
    description: 'Move the caller\'s appointment to one of the slots from list_open_slots that they chose.',
    parameters: z.object({ slot_id: z.string().describe('slot_id from list_open_slots') }),
    execute: async ({ slot_id }) => {
      const a = appointmentOf(s);
      const result = await s.store.booking.reschedule(a.id, slot_id, voiceChange(s, 'rescheduled'));
      s.log.info({ tool: 'reschedule_appointment', result }, 'tool ran');
      if (result !== 'rescheduled') return { result, why: RESCHEDULE_REFUSED[result] };
      await tell(s, 'reschedule_appointment', 'rescheduled');
      return { result, appointment: await appointmentNow(s, a) };
    },
  });

  const cancel = llm.tool({
    name: 'cancel_appointment',
    description: 'Cancel the caller\'s appointment after they clearly asked to cancel it. Ask for the reason first.',
    parameters: z.object({ reason: z.string().min(1).describe('Why the caller cancels') }),
    execute: async ({ reason }) => {
      const a = appointmentOf(s);
      const result = await s.store.booking.cancel(a.id, reason, voiceChange(s, 'cancelled'));
      s.log.info({ tool: 'cancel_appointment', result }, 'tool ran');
      if (result === 'not_found') return { result, why: 'This appointment is no longer in our records. Offer the operator.' };
      await tell(s, 'cancel_appointment', 'cancelled');
      return { result };
    },
  });

  const walkIn = llm.tool({
    name: 'set_walk_in_availability',
    description: 'Save whether the caller could come in at short notice if a slot frees up: any time (flexible) or only at times they name, and the notice they need.',
    parameters: z.object({
      flexible: z.boolean().describe('true when any time works'),
      specific_times: z.string().nullable().optional().describe('The times that work, as the caller said them, when not flexible'),
      notice_minutes: z.number().int().min(0).max(10_080).nullable().optional().describe('Notice they need, in minutes'),
    }),
    execute: async ({ flexible, specific_times, notice_minutes }) => {
      const patient = patientOfCall(s);
      await s.store.booking.setWalkIn(patient.id, { flexible, specificTimes: specific_times ?? null, noticeMinutes: notice_minutes ?? null });
      s.log.info({ tool: 'set_walk_in_availability' }, 'tool ran');
      return { result: 'saved' };
    },
  });

  const reminder = llm.tool({
    name: 'set_reminder_preference',
    description: 'Save how long before an appointment the caller wants a reminder, in minutes (e.g. 1440 for a day), or null for no reminders.',
    parameters: z.object({ lead_minutes: z.number().int().min(0).max(43_200).nullable() }),
    execute: async ({ lead_minutes }) => {
      const patient = patientOfCall(s);
      await s.store.booking.setReminder(patient.id, lead_minutes);
      s.log.info({ tool: 'set_reminder_preference' }, 'tool ran');
      return { result: 'saved', lead_minutes };
    },
  });

  const reachDesk = s.reachDesk;
  const transfer =
    reachDesk &&
    llm.tool({
      name: 'transfer_to_operator',
      description:
        'The caller wants to speak with a person at the clinic: puts them through to the front desk, or says a message is to be taken instead (desk closed or none). Works before the caller is verified.',
      parameters: z.object({
        summary: z
          .string()
          .max(300)
          .optional()
          .describe('For the person at the desk, who hears it before taking the call: in one or two sentences, what the caller wants and anything they already said that the desk needs.'),
      }),
      execute: async ({ summary }) => {
        const state = await reachDesk(summary);
        if (state === 'connecting') return { result: 'connecting', say: 'Tell the caller in one short sentence to hold while you connect them; then say nothing more.' };
        if (state === 'recorded') return { result: 'recorded', say: 'A member of staff will call back.' };
        return {
          result: 'take_message',
          why: state === 'closed' ? 'the front desk is closed now' : 'nobody at the front desk can take calls',
          say: 'Say so, and offer to take a message: their name, the number to call back (the one they are calling from unless they give another) and why they called; then call take_message.',
        };
      },
    });
  const leave = s.leaveMessage;
  const takeMessage =
    leave &&
    llm.tool({
      name: 'take_message',
      description: 'Saves a message for the front desk once the caller has given their name, why they called and, if not the number they are calling from, the number to call back. Works before the caller is verified.',
      parameters: z.object({
        caller_name: z.string().min(1).max(200).describe("The caller's name as they said it"),
        reason: z.string().min(1).max(2000).describe('Why they called, in a sentence or two'),
        callback_number: z.string().max(40).optional().describe('Another number to call back, only if the caller gave one; digits as said'),
      }),
      execute: async ({ caller_name, reason, callback_number }) => {
        const saved = await leave({ callerName: caller_name, callbackNumber: callback_number, reason });
        if (saved === 'bad_number') throw new llm.ToolError('That callback number is not a valid phone number; ask the caller to say the whole number again, with the area code. Nothing was saved.');
        return { result: 'saved', say: 'Tell the caller their message is saved and staff will call back; then say goodbye.' };
      },
    });

  const stopCalls = s.optOut;
  const optOut =
    stopCalls &&
    llm.tool({
      name: 'opt_out',
      description:
        'On this call we placed, the person says they do not want calls like this one (stop calling, remove me from your list): puts the number we dialed on the do-not-call list. Works before the caller is verified.',
      execute: async () => {
        // Saving it is the change: its failure is the tool's, and nothing is promised.
        try {
          await stopCalls();
        } catch (err) {
          s.log.error({ err, tool: 'opt_out' }, 'opt-out not saved');
          throw new llm.ToolError('The request could not be saved just now (nothing was saved). Apologise, say we could not record it, and ask them to call the clinic.');
        }
        s.log.info({ tool: 'opt_out' }, 'tool ran');
        return { result: 'saved', say: 'Tell them we will not call this number again, then say goodbye and end the call.' };
      },
    });

  const operator = llm.tool({
    name: 'request_operator',
    description: 'The caller wants to speak with a person at the clinic: record the request.',
    execute: async () => {
      // No booking change here: saving the outcome is the change, so its failure is the tool's.
      await s.changed('operator_requested');
      s.log.info({ tool: 'request_operator' }, 'tool ran');
      return { result: 'recorded', say: 'A member of staff will call back.' };
    },
  });

  return [
    ...(s.identity ? [verifyIdentityTool(s)] : []),
    confirm,
    confirmWithCallback,
    listOpenSlots,
    reschedule,
    cancel,
    walkIn,
    reminder,
    ...(transfer ? [transfer] : [operator]),
    ...(takeMessage ? [takeMessage] : []),
    ...(optOut ? [optOut] : []),
    beta.createEndCallTool({ endInstructions: 'Thank the caller and say goodbye.' }),
  ];
}

/**
 * `verify_identity`: the caller's answer to this call's identity check, as they said it to the model —
 * their date of birth, or (a call we placed, `name` check) whether they are the patient we called
 * for. The attempt is saved by the call before the tool answers; a store failure is a ToolError
 * (the attempt did not count). The answer tells the model what it may now say: the patient's facts
 * once verified, else nothing about anyone.
 */
function verifyIdentityTool(s: ToolScope) {
  const answer = async (given: Parameters<ToolScope['verify']>[0]) => {
    const before = s.situation;
    let step: IdentityStep;
    try {
      step = await s.verify(given);
    } catch (err) {
      s.log.error({ err }, 'identity check not saved');
      throw new llm.ToolError('The answer could not be checked just now (nothing was saved). Apologise and ask again; say nothing about any patient or appointment.');
    }
    s.log.info({ tool: 'verify_identity', result: step.kind }, 'tool ran');
    return identityAnswer(s, step, before);
  };
  if (s.identity === 'name') {
    return llm.tool({
      name: 'verify_identity',
      description: 'Record whether the person on the line is the patient you are calling for, as they told you. Nothing about the appointment may be said before it returns verified.',
      parameters: z.object({ is_patient: z.boolean().describe('true when they said they are the patient you asked for, false when they are someone else') }),
      execute: async ({ is_patient }) => answer({ isPatient: is_patient }),
    });
  }
  return llm.tool({
    name: 'verify_identity',
    description: 'Check the date of birth the caller said against our records. Nothing about any patient or appointment may be said, and no other tool works, before it returns verified.',
    parameters: z.object({ date_of_birth: z.string().describe('The date of birth the caller said, as YYYY-MM-DD, e.g. 1985-03-14') }),
    execute: async ({ date_of_birth }) => answer({ dateOfBirth: date_of_birth }),
  });
}

/** What `verify_identity` tells the model after `step`, from the call's situation now (`before`: as the answer was given). */
function identityAnswer(s: ToolScope, step: IdentityStep, before: Situation) {
  const now = s.situation;
  const go = 'Greet them by first name and go on with what the call is about, from these facts only.';
  switch (step.kind) {
    case 'verified':
      return { result: 'verified', facts: factsOf(now), next: go };
    case 'wrong':
      return {
        result: step.why === 'not_a_date' ? 'not_a_date' : 'no_match',
        attempts_left: step.left,
        next:
          step.why === 'not_a_date'
            ? 'That is not a valid date of birth: ask for it again (day, month and year). Say nothing about any patient or appointment.'
            : 'Say the date of birth does not match our records and ask them to try again. Say nothing about any patient or appointment.',
      };
    case 'failed':
      return { result: 'not_verified', next: 'Say you cannot verify their identity, so you cannot discuss appointments on this call, and offer the operator.' };
    case 'declined':
      return { result: 'not_the_patient', next: someoneElseFacts(before.kind === 'unverified' ? (before.calledFor ?? '') : '') };
    default:
      // The check is over already (or there is none): what it ended with.
      if (now.kind === 'unverified') return { result: 'not_checked', next: verifyFirst(now) };
      if (now.kind === 'not_verified') return { result: 'not_verified', next: 'The caller could not be verified earlier in this call: say nothing about any patient or appointment, and offer the operator.' };
      return { result: 'already_verified', facts: factsOf(now), next: go };
  }
}
