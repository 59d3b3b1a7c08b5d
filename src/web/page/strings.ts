/**
 * Every word the visit page shows, in English and Arabic: the page picks them by WEB_LANGUAGE's
 * primary subtag (English for any language not here). Shared by the page itself (./main.ts) and the
 * server that renders its HTML (../page.ts), so it holds no DOM code.
 */

/** What the page says. */
export interface PageStrings {
  /** Above the clinic's name. */
  readonly eyebrow: string;
  readonly intro: string;
  readonly start: string;
  readonly again: string;
  readonly hangUp: string;
  readonly keypad: string;
  /** Under keys 1, 2 and 0: what they do (src/call/keys.ts). */
  readonly keyLabels: Readonly<Record<'1' | '2' | '0', string>>;
  readonly transcript: string;
  readonly you: string;
  readonly assistant: string;
  readonly privacy: string;
  /** The agent's and the visit's states. */
  readonly states: Readonly<Record<PageState, string>>;
  /** An error, in words a visitor can act on. */
  readonly errors: Readonly<Record<PageError, string>>;
}

/** Where the visit stands, as the page shows it. */
export type PageState = 'idle' | 'microphone' | 'connecting' | 'waiting' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'hungUp';

/** What can go wrong, each with its own words. */
export type PageError =
  | 'microphone_denied'
  | 'no_microphone'
  | 'insecure'
  | 'server_unreachable'
  | 'link_expired'
  | 'link_invalid'
  | 'unavailable'
  | 'connection_failed'
  | 'no_agent'
  | 'connection_lost';

const en: PageStrings = {
  eyebrow: 'Talk to our assistant',
  intro: 'Speak with our phone assistant from your browser: confirm or change your appointment, or reach the front desk.',
  start: 'Start talking',
  again: 'Talk again',
  hangUp: 'Hang up',
  keypad: 'Keypad',
  keyLabels: { '1': 'Confirm', '2': 'Reschedule', '0': 'Front desk' },
  transcript: 'Conversation',
  you: 'You',
  assistant: 'Assistant',
  privacy: 'Your voice is sent to the clinic only for this conversation.',
  states: {
    idle: 'Ready when you are',
    microphone: 'Waiting for your microphone…',
    connecting: 'Connecting…',
    waiting: 'Waiting for the assistant…',
    listening: 'Listening',
    thinking: 'Thinking…',
    speaking: 'Speaking',
    ended: 'The conversation has ended.',
    hungUp: 'You hung up.',
  },
  errors: {
    microphone_denied: 'The microphone is blocked. Allow this page to use your microphone (the icon in the address bar), then try again.',
    no_microphone: 'No microphone was found. Connect one, or open this page on your phone, then try again.',
    insecure: 'Your browser only allows the microphone on a secure (https) page. Please open the link the clinic sent you.',
    server_unreachable: 'We could not reach the clinic’s server. Check your internet connection and try again.',
    link_expired: 'This link has expired. Please ask the clinic for a new one, or call us.',
    link_invalid: 'This link is not valid. Please use the exact link the clinic sent you, or call us.',
    unavailable: 'The assistant is not available right now. Please try again in a few minutes, or call us.',
    connection_failed: 'We could not connect the call. Check your internet connection and try again.',
    no_agent: 'The assistant did not answer. Please try again in a few minutes, or call us.',
    connection_lost: 'The connection was lost. Please try again.',
  },
};

const ar: PageStrings = {
  eyebrow: 'تحدّث مع مساعدنا',
  intro: 'تحدّث مع مساعدنا الهاتفي من متصفحك: أكّد موعدك أو غيّره، أو تواصل مع مكتب الاستقبال.',
  start: 'ابدأ المحادثة',
  again: 'تحدّث مرة أخرى',
  hangUp: 'إنهاء المكالمة',
  keypad: 'لوحة المفاتيح',
  keyLabels: { '1': 'تأكيد', '2': 'تغيير الموعد', '0': 'الاستقبال' },
  transcript: 'المحادثة',
  you: 'أنت',
  assistant: 'المساعد',
  privacy: 'يُرسَل صوتك إلى العيادة لهذه المحادثة فقط.',
  states: {
    idle: 'جاهز عندما تكون جاهزًا',
    microphone: 'في انتظار الميكروفون…',
    connecting: 'جارٍ الاتصال…',
    waiting: 'في انتظار المساعد…',
    listening: 'يستمع',
    thinking: 'يفكّر…',
    speaking: 'يتحدّث',
    ended: 'انتهت المحادثة.',
    hungUp: 'أنهيت المكالمة.',
  },
  errors: {
    microphone_denied: 'الميكروفون محظور. اسمح لهذه الصفحة باستخدام الميكروفون (الرمز في شريط العنوان)، ثم حاول مرة أخرى.',
    no_microphone: 'لم يُعثر على ميكروفون. صِل ميكروفونًا أو افتح هذه الصفحة على هاتفك، ثم حاول مرة أخرى.',
    insecure: 'لا يسمح متصفحك بالميكروفون إلا على صفحة آمنة (https). يُرجى فتح الرابط الذي أرسلته العيادة.',
    server_unreachable: 'تعذّر الوصول إلى خادم العيادة. تحقّق من اتصالك بالإنترنت وحاول مرة أخرى.',
    link_expired: 'انتهت صلاحية هذا الرابط. يُرجى طلب رابط جديد من العيادة، أو الاتصال بنا.',
    link_invalid: 'هذا الرابط غير صالح. يُرجى استخدام الرابط الذي أرسلته العيادة كما هو، أو الاتصال بنا.',
    unavailable: 'المساعد غير متاح الآن. يُرجى المحاولة بعد بضع دقائق، أو الاتصال بنا.',
    connection_failed: 'تعذّر إجراء الاتصال. تحقّق من اتصالك بالإنترنت وحاول مرة أخرى.',
    no_agent: 'لم يُجب المساعد. يُرجى المحاولة بعد بضع دقائق، أو الاتصال بنا.',
    connection_lost: 'انقطع الاتصال. يُرجى المحاولة مرة أخرى.',
  },
};

const BY_LANGUAGE: Readonly<Record<string, PageStrings>> = { en, ar };

/** The page's words for a BCP-47 tag (its primary subtag), English when the language is not here. */
export function stringsFor(language: string): PageStrings {
  return BY_LANGUAGE[language.split('-')[0]!.toLowerCase()] ?? en;
}

/**
 * Languages written right to left (Unicode CLDR: their scripts, Arabic, Hebrew, Thaana, Syriac,
 * N'Ko and Adlam, are RTL), by primary subtag.
 */
const RTL = new Set(['ar', 'arc', 'ckb', 'dv', 'fa', 'he', 'iw', 'ps', 'sd', 'syr', 'ug', 'ur', 'yi', 'nqo']);

/** The text direction of a BCP-47 tag: `rtl` for a language written right to left, else `ltr`. */
export function textDirection(language: string): 'rtl' | 'ltr' {
  return RTL.has(language.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr';
}
