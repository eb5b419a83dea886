// The console's words: one catalogue a language (console/i18n/<lang>.js), chosen
// from what the person picked before, else the browser's languages, else English.
export const LANGUAGES = ['en', 'ru'];
const STORE = 'twotier.language';

let current = 'en';
let catalogue = {};
const listeners = new Set();

function stored() {
  try {
    return localStorage.getItem(STORE);
  } catch {
    return null; // storage refused (a private window's policy): the browser's choice
  }
}

export function preferred() {
  const s = stored();
  if (LANGUAGES.includes(s)) return s;
  for (const tag of navigator.languages || [navigator.language]) {
    const primary = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return 'en';
}

export async function load(language) {
  const mod = await import(`../i18n/${language}.js`);
  catalogue = mod.default;
  current = language;
  document.documentElement.lang = language;
}

export function language() {
  return current;
}

// Switches, remembers the choice, and tells the views to draw themselves again.
export async function switchTo(language) {
  if (!LANGUAGES.includes(language) || language === current) return;
  await load(language);
  try {
    localStorage.setItem(STORE, language);
  } catch {
    // not remembered, still switched
  }
  for (const f of listeners) f(language);
}

export function onSwitch(f) {
  listeners.add(f);
}

function lookup(key) {
  let v = catalogue;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in v)) return undefined;
    v = v[part];
  }
  return v;
}

export function has(key) {
  return typeof lookup(key) === 'string';
}

// t('signIn.title'), t('signUp.sent', {email}): a missing key shows itself, so a
// gap in a catalogue is seen (and tests/browser checks the two have the same keys).
export function t(key, vars) {
  const v = lookup(key);
  if (typeof v !== 'string') return key;
  return vars ? v.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : v;
}

export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function countryName(code) {
  try {
    return new Intl.DisplayNames([current], { type: 'region' }).of(code) || code;
  } catch {
    return code;
  }
}
