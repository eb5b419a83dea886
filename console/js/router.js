// Paths without a hash: the pages are real addresses ({base}/verify-signup?token=…,
// the ones the service mails), history.pushState moves between them, and a link
// to one of them is followed here rather than by a new page load.
import { base } from './config.js';
import { routes } from './routes.js';

let draw = () => {};

// The page's path below the base: "/sign-in".
export function path() {
  const p = location.pathname;
  const rest = base && p.startsWith(base) ? p.slice(base.length) : p;
  return rest || '/';
}

export function params() {
  return new URLSearchParams(location.search);
}

// href('/sign-in', {next: '/sessions'}) -> "{base}/sign-in?next=%2Fsessions"
export function href(p, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v != null)).toString() : '';
  return base + p + (q ? `?${q}` : '');
}

// Goes to page p; state (not in the address) reaches the page as ctx.state.
export function navigate(p, { query, replace = false, state = null } = {}) {
  const url = href(p, query);
  if (replace) history.replaceState(state, '', url);
  else history.pushState(state, '', url);
  draw();
}

// A path of ours that a "next" parameter may send the person back to after
// sign-in; anything else (another site, "//evil") is refused.
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//')) return null;
  const p = next.split('?')[0];
  return p in routes ? next : null;
}

export function start(render) {
  draw = render;
  addEventListener('popstate', () => draw());
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    const rest = base && url.pathname.startsWith(base) ? url.pathname.slice(base.length) || '/' : url.pathname;
    if (!(rest in routes) || (base && !url.pathname.startsWith(base))) return;
    ev.preventDefault();
    history.pushState(null, '', url.pathname + url.search);
    draw();
  });
  draw();
}
