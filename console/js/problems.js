// What a refusal means, in the person's words: the catalogue's text for the field
// and code, or for the rule (code), or for the status; the service's own detail is
// English and written for developers, so it is never shown alone.
import { has, t } from './i18n.js';

function key(field) {
  return field.replace(/\[\d+\]/g, '').replace(/\./g, '_');
}

// {field, code, message} -> the sentence shown beside that field.
export function fieldMessage(err) {
  const f = key(err.field || '');
  for (const k of [`problems.fields.${f}.${err.code}`, `problems.codes.${err.code}`]) {
    if (has(k)) return t(k);
  }
  return t('problems.codes.invalid');
}

// A problem as one sentence. overrides maps a code or a status to a catalogue key,
// for what a page knows better (a 404 on a mailed link is "this link is not valid");
// overrides.vars, the names its sentences use ({provider}).
export function problemMessage(p, overrides = {}) {
  const vars = { minutes: Math.max(1, Math.ceil((p.retryAfter || 60) / 60)), seconds: p.retryAfter || 1, ...(overrides.vars || {}) };
  if (p.code && overrides[p.code]) return t(overrides[p.code], vars);
  if (overrides[p.status]) return t(overrides[p.status], vars);
  if (p.code && has(`problems.rules.${p.code}`)) return t(`problems.rules.${p.code}`, vars);
  if (has(`problems.status.${p.status}`)) return t(`problems.status.${p.status}`, vars);
  return t('problems.status.other', { status: p.status });
}
