// The console starts here: its language, the session a reload left (the refresh
// cookie), then the page of the address.
import * as i18n from './i18n.js';
import * as session from './session.js';
import { h, clear } from './dom.js';
import { routes, notFound } from './routes.js';
import { path, params, navigate, start } from './router.js';
import { main, mount, drawFrame } from './layout.js';
import { signedIn } from './api.js';

let drawing = 0;

// What the person typed in the page, by control, so that drawing the page again
// (in another language) keeps it.
function typed() {
  const out = new Map();
  for (const c of main.querySelectorAll('input, select, textarea')) {
    if (!c.name || c.type === 'hidden') continue;
    out.set(c.name, c.type === 'checkbox' ? c.checked : c.value);
  }
  return out;
}

function retype(saved) {
  for (const c of main.querySelectorAll('input, select, textarea')) {
    if (!saved.has(c.name)) continue;
    if (c.type === 'checkbox') c.checked = saved.get(c.name);
    else c.value = saved.get(c.name);
  }
}

async function draw({ keep = false } = {}) {
  const mine = ++drawing;
  const p = path();
  const route = routes[p] || notFound;
  if (route.access === 'user' && !signedIn()) {
    navigate('/sign-in', { replace: true, query: { next: p + location.search } });
    return;
  }
  // a second factor is required of this person and it has none: the service
  // refuses everything else, so the console shows the page that sets one up
  const who = session.current();
  if (who && who.mfaSetupRequired && route.access === 'user' && !route.beforeMfa) {
    navigate('/security', { replace: true, state: { setupRequired: true }, query: { next: p + location.search } });
    return;
  }
  const saved = keep ? typed() : null;
  main.setAttribute('aria-busy', 'true');
  drawFrame();
  let node;
  let title;
  try {
    const page = (await route.load()).default;
    title = i18n.t(page.title);
    node = await page.render({ params: params(), state: history.state || {}, navigate });
  } catch (e) {
    console.error(e);
    title = i18n.t('problems.pageFailedTitle');
    node = h('section', {}, h('h1', { tabindex: '-1' }, title), h('p', { role: 'alert' }, i18n.t('problems.pageFailed')));
  }
  if (mine !== drawing) return; // another page was asked for meanwhile
  document.title = `${title} · ${i18n.t('shell.brand')}`;
  clear(main).append(node);
  main.removeAttribute('aria-busy');
  // a page's state (a notice such as "you have enrolled") is shown once: not again
  // after a reload, which keeps history.state
  if (history.state) history.replaceState(null, '', location.href);
  if (saved) retype(saved);
  else (main.querySelector('h1') || main).focus();
}

async function boot() {
  await i18n.load(i18n.preferred());
  mount(document.getElementById('app'));
  session.onChange((who) => {
    if (who && who.mfaSetupRequired && !(routes[path()] || notFound).beforeMfa) draw();
    else drawFrame();
  });
  i18n.onSwitch(() => draw({ keep: true }));
  await session.restore();
  start(() => draw());
}

boot();
