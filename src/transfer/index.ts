/**
 * A person when the caller needs one: owns the front desk's opening hours (./hours.ts) and, as
 * issue 14 lands, putting the caller through to the desk (cold by SIP REFER, warm with a briefing)
 * and what happens when nobody can take the call.
 */
export { parseOpeningHours, isOpen, OpeningHoursError, type OpeningHours, type DayHours } from './hours.js';
