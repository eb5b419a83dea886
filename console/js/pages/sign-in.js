// Sign in: the password step, then, when the account has a second factor (401
// mfa_required with a challenge), the code of its authenticator app or one of its
// recovery codes.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, form } from '../form.js';
import { page, notice, link } from '../view.js';
import { safeNext } from '../router.js';
import * as session from '../session.js';

const OVERRIDES = {
  401: 'signIn.wrong',
  429: 'signIn.locked',
};

function secondFactor(challenge, done) {
  const box = h('div');
  let recovery = false;
  const draw = () => {
    const f = form({
      label: t('signIn.secondTitle'),
      submit: t('signIn.verify'),
      fields: recovery
        ? [field({ name: 'recoveryCode', label: t('signIn.recoveryCode'), hint: t('signIn.recoveryHint'), autocomplete: 'off', spellcheck: 'false' })]
        : [
            field({
              name: 'code',
              label: t('signIn.code'),
              hint: t('signIn.codeHint'),
              inputmode: 'numeric',
              autocomplete: 'one-time-code',
              pattern: '[0-9]*',
              maxlength: '8',
            }),
          ],
      overrides: { 401: 'signIn.wrongCode', mfa_challenge_invalid: 'signIn.challengeExpired', 429: 'signIn.locked' },
      secondary: h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            recovery = !recovery;
            draw();
            box.querySelector('input').focus();
          },
        },
        recovery ? t('signIn.useCode') : t('signIn.useRecovery'),
      ),
      async onSubmit(v) {
        await session.completeSignIn(challenge, v);
        done();
      },
    });
    box.replaceChildren(h('h2', {}, t('signIn.secondTitle')), h('p', {}, t('signIn.secondLead')), f);
  };
  draw();
  return box;
}

export default {
  title: 'signIn.title',
  render({ params, state, navigate }) {
    const next = safeNext(params.get('next')) || '/overview';
    const done = () => {
      const [p, q] = next.split('?');
      navigate(p, { replace: true, query: q ? Object.fromEntries(new URLSearchParams(q)) : undefined });
    };
    const holder = h('div');
    const f = form({
      label: t('signIn.title'),
      submit: t('signIn.submit'),
      overrides: OVERRIDES,
      fields: [
        field({
          name: 'username',
          label: t('signIn.username'),
          type: 'email',
          autocomplete: 'username',
          spellcheck: 'false',
          value: params.get('username') || '',
        }),
        field({ name: 'password', label: t('signIn.password'), type: 'password', autocomplete: 'current-password' }),
      ],
      async onSubmit({ username, password }) {
        const r = await session.signIn(username, password);
        if (r.challenge) {
          holder.replaceChildren(secondFactor(r.challenge, done));
          holder.querySelector('input').focus();
          return;
        }
        done();
      },
    });
    holder.append(f);
    return page(
      t('signIn.title'),
      state.signedOut ? notice('info', h('p', {}, t('signIn.signedOut'))) : null,
      state.passwordChanged ? notice('success', h('p', {}, t('signIn.passwordChanged'))) : null,
      params.get('next') ? notice('info', h('p', {}, t('signIn.needed'))) : null,
      h('p', { class: 'lead' }, t('signIn.lead')),
      holder,
      h('p', {}, link('/forgot-password', t('signIn.forgot'))),
      h('p', {}, t('signIn.noAccount'), ' ', link('/sign-up', t('signIn.create')), '.'),
    );
  },
};
