// Where the console and the API live. This file is {base}/console/js/config.js: the
// pages are {base}/{page} and the API {base}/v1/..., so a deployment below a path
// (base_path = /api, nginx/twotier-api.conf) needs no setting here.
export const base = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

// The header that, with the page's Origin, lets the refresh cookie be used
// (lib/api/sessions.c): no cross-site form or link can send it.
export const REQUESTED_WITH = 'twotier-console';
