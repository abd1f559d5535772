/**
 * The block page's HTML, made on the server: it must show on any browser, on
 * any device, with scripts off, from whatever host name the browser asked
 * for. No script, no external file; inline styles only (the CSP allows them).
 * Every value from outside is escaped.
 */
import type { Explanation } from '../filter/engine.ts';
import type { CategoryKey } from '../filter/categories.ts';
import { categoryInfo } from '../lists/lists.taxonomy.ts';

export interface PageContext {
  schoolName: string;
  /** The school's time zone, for the time shown. */
  timezone: string;
  /** The monitoring notice (the school's own, or the built-in wording). */
  notice: string;
  /** Who to ask (the school's contact line), or null. */
  contact: string | null;
  /** A reference to quote to IT: the request id. */
  reference: string;
  now: Date;
}

export const DEFAULT_NOTICE = (school: string) =>
  `${school} filters and monitors the use of its network and devices to keep everyone safe online, as its acceptable use policy explains. ` +
  'Visits to blocked sites are recorded with the device and account they came from, and the safeguarding team may see them.';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const sentence = (text: string) => (text ? text[0].toUpperCase() + text.slice(1).replace(/\.?$/, '.') : '');

const STYLE = `
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:.25rem 0 1rem}
.badge{display:inline-block;font-size:.8rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:#fff;background:#b3261e;border-radius:4px;padding:.1rem .5rem}
.badge.ok{background:#1b6e3a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:0 0 1rem}
dt{font-weight:600;color:#4a5263}dd{margin:0;overflow-wrap:anywhere}
.notice{border-left:4px solid #2f5fb3;background:#eef3fb;padding:.75rem 1rem;margin:1rem 0;font-size:.95rem}
form{margin-top:1.25rem;border-top:1px solid #e1e4ea;padding-top:1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
textarea,input[type=text]{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #a9b0bd;border-radius:6px}
button{margin-top:.75rem;font:inherit;font-weight:600;color:#fff;background:#2f5fb3;border:0;border-radius:6px;padding:.55rem 1.1rem;cursor:pointer}
.error{color:#b3261e;font-weight:600}
small,.muted{color:#5c6476}
`;

/** The page: `body`, then the monitoring notice and help line, then `after` (the review form). */
function layout(title: string, body: string, context: PageContext, after = ''): string {
  return `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><div class="card">
${body}
<p class="notice" role="note"><strong>Monitoring.</strong> ${escapeHtml(context.notice)}</p>
${context.contact ? `<p><strong>Need help?</strong> ${escapeHtml(context.contact)}</p>` : ''}
${after}
<p><small>${escapeHtml(context.schoolName)} · Schoolgate filter · ${escapeHtml(context.now.toLocaleString('en-GB', { timeZone: context.timezone, dateStyle: 'medium', timeStyle: 'short' }))} · reference ${escapeHtml(context.reference)}</small></p>
</div></main></body></html>`;
}

function categoryText(keys: readonly CategoryKey[]): string {
  return keys.map((k) => categoryInfo(k).label).join(', ');
}

/** The review form; `values` refills it after an error. */
function reviewForm(site: string, values: { message?: string; name?: string }, errors: Record<string, string>): string {
  const error = (field: string) => (errors[field] ? `<p class="error" id="${field}-error">${escapeHtml(errors[field])}</p>` : '');
  return `<form method="post" action="/blocked/review">
<h2>Request a review</h2>
<p class="muted">If you need this site for your work or learning, say why. The network manager will look at it; some categories also need the safeguarding lead’s agreement.</p>
<input type="hidden" name="site" value="${escapeHtml(site)}">
<label for="message">Why do you need it?</label>
<textarea id="message" name="message" rows="4" maxlength="1000" required${errors.message ? ' aria-describedby="message-error"' : ''}>${escapeHtml(values.message ?? '')}</textarea>
${error('message')}
<label for="name">Your name (optional)</label>
<input type="text" id="name" name="name" maxlength="100" autocomplete="name" value="${escapeHtml(values.name ?? '')}">
${error('name')}${error('site')}${error('request')}
<button type="submit">Send request</button>
</form>`;
}

/** Whether a review can change the outcome: illegal content never; a sanction is a decision about the person, not the site. */
function reviewable(explanation: Explanation | null): boolean {
  const rule = explanation?.decision.rule;
  return rule !== 'illegal' && rule !== 'sanction';
}

/** Whether the page shows a block: the filter blocks the name, or could not say (then it errs on blocked). */
export const isBlocked = (explanation: Explanation | null) => !explanation || explanation.decision.kind === 'blocked' || explanation.decision.kind === 'bypass_blocked';

/** The page for a blocked site (or one that is not blocked for this device now). */
export function blockPage(site: string | null, explanation: Explanation | null, context: PageContext, form: { values?: { message?: string; name?: string }; errors?: Record<string, string> } = {}): string {
  if (!site) {
    return layout(
      'Schoolgate block page',
      `<span class="badge">Filtered</span><h1>${escapeHtml(context.schoolName)}’s web filter</h1>
<p>This is the page the school’s filter shows in place of a blocked site. No site was named in this request.</p>`,
      context,
    );
  }
  const decision = explanation?.decision ?? null;
  if (!isBlocked(explanation)) {
    return layout(
      `${site} is not blocked`,
      `<span class="badge ok">Not blocked now</span><h1>${escapeHtml(site)} is not blocked for this device now</h1>
<p>${escapeHtml(sentence(decision!.reason))} It may have been blocked a moment ago (a timetable or an exemption that changed), or by an address it led to. Try again in a minute: devices remember answers for up to ten seconds.</p>`,
      context,
    );
  }
  const categories = decision?.category ? [decision.category] : (explanation?.categories ?? []);
  const rows: string[] = [`<dt>Site</dt><dd>${escapeHtml(site)}</dd>`];
  if (categories.length) rows.push(`<dt>Category</dt><dd>${escapeHtml(categoryText(categories))}<br><small>${escapeHtml(categoryInfo(categories[0]).description)}</small></dd>`);
  let why: string;
  if (!explanation) why = 'The school’s filter blocks this site. The filter could not say why just now.';
  else if (decision!.rule === 'illegal') why = 'This address is on a list of illegal content. It is blocked for everyone and cannot be unblocked.';
  else if (!explanation.identified) why = `The school’s filter blocks this site. This device is not on the school’s network, so it is shown what the school’s lists say about the site.`;
  else why = sentence(decision!.reason);
  rows.push(`<dt>Why</dt><dd>${escapeHtml(why)}</dd>`);
  if (explanation?.groupName) rows.push(`<dt>Filtered as</dt><dd>${escapeHtml(explanation.groupName)}</dd>`);
  return layout(
    `${site} is blocked`,
    `<span class="badge">Blocked</span><h1>${escapeHtml(site)} is blocked</h1>
<dl>${rows.join('')}</dl>`,
    context,
    reviewable(explanation) ? reviewForm(site, form.values ?? {}, form.errors ?? {}) : '<p>Talk to a member of staff if you think this is wrong.</p>',
  );
}

/** After a review request was sent; `statusPath` is its status page (null for a request older than status pages). */
export function requestSentPage(site: string, repeated: boolean, requestId: string, context: PageContext, statusPath: string | null = null): string {
  return layout(
    'Request sent',
    `<span class="badge ok">Request sent</span><h1>Your request about ${escapeHtml(site)} ${repeated ? 'was already sent' : 'has been sent'}</h1>
<p>The network manager will look at it. If it is approved, the site will open from this device without anything else to do.</p>
<p>Your request number is <strong>${escapeHtml(requestId.slice(0, 8))}</strong>.</p>
${statusPath ? `<p><a href="${escapeHtml(statusPath)}">See what happens to your request</a> (keep this link: anyone who has it can see the outcome).</p>` : ''}`,
    context,
  );
}

/** What the requester sees of a request on its status page. */
export interface RequestStatus {
  kind: 'site' | 'filter_off';
  site: string;
  status: 'open' | 'awaiting_dsl' | 'approved' | 'refused';
  waitingFor: 'network_manager' | 'dsl' | 'head' | null;
  createdAt: string;
  until: string | null;
  appliesTo: string | null;
  refusalReason: string | null;
}

/** The status page of a request (no sign-in: the link's token is the key). */
export function requestStatusPage(request: RequestStatus | null, context: PageContext): string {
  if (!request) {
    return layout('Request not found', `<span class="badge">Not found</span><h1>There is no request at this address</h1><p>Check the link you were given after sending the request.</p>`, context);
  }
  const when = (iso: string) => new Date(iso).toLocaleString('en-GB', { timeZone: context.timezone, dateStyle: 'medium', timeStyle: 'short' });
  const what = request.kind === 'filter_off' ? 'switching filtering off' : request.site;
  const waiting = { network_manager: 'the network manager', dsl: 'the designated safeguarding lead, who must also agree for sites in this category', head: 'the head teacher' } as const;
  let badge: string;
  let body: string;
  if (request.status === 'approved') {
    badge = '<span class="badge ok">Approved</span>';
    body = `<h1>Your request about ${escapeHtml(what)} was approved</h1>
<p>${request.kind === 'filter_off' ? 'Filtering is off' : `${escapeHtml(request.site)} is unblocked`}${request.appliesTo ? ` for ${escapeHtml(request.appliesTo)}` : ''} until <strong>${escapeHtml(request.until ? when(request.until) : 'the time set')}</strong>. After that it is blocked again by itself. Illegal content stays blocked whatever happens.</p>`;
  } else if (request.status === 'refused') {
    badge = '<span class="badge">Refused</span>';
    body = `<h1>Your request about ${escapeHtml(what)} was refused</h1>
<dl><dt>Reason</dt><dd>${escapeHtml(request.refusalReason ?? '')}</dd></dl>`;
  } else {
    badge = '<span class="badge" style="background:#8a5a00">Pending</span>';
    body = `<h1>Your request about ${escapeHtml(what)} is waiting</h1>
<p>It is with ${escapeHtml(request.waitingFor ? waiting[request.waitingFor] : 'the school')}. Look at this page again later.</p>`;
  }
  return layout(`Request: ${request.status === 'awaiting_dsl' ? 'pending' : request.status === 'open' ? 'pending' : request.status}`, `${badge}${body}<p class="muted">Sent ${escapeHtml(when(request.createdAt))}.</p>`, context);
}

/** A request that could not be taken (too many from this device). */
export function requestRefusedPage(message: string, context: PageContext): string {
  return layout('Request not sent', `<span class="badge">Not sent</span><h1>Your request was not sent</h1><p>${escapeHtml(message)}</p>`, context);
}
