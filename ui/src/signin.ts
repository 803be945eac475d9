// The sign-in page: the server's users (name or access key + secret).
import { h } from './dom';
import { ApiError, signIn } from './api';

export function signInPage(onSignedIn: () => void, notice = ''): HTMLElement {
  const user = h('input#signin-user', { name: 'user', autocomplete: 'username', required: true, value: 'admin' });
  const password = h('input#signin-password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p.error-box', { role: 'alert', hidden: !notice }, notice);
  const submit = h('button.primary.wide', { type: 'submit' }, 'Sign in');
  const form = h('form.signin', { novalidate: true },
    h('div.brand.big', null, h('img', { src: '/favicon.svg', alt: '', width: 36, height: 36 }), h('span', null, 'streamlake')),
    h('p.muted', null, 'Sign in with a streamlake user — a name or access key and its secret.'),
    h('label', { for: 'signin-user' }, 'User'), user,
    h('label', { for: 'signin-password' }, 'Password'), password,
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!user.value || !password.value) {
      error.textContent = 'Enter a user and a password.';
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await signIn(user.value.trim(), password.value);
      onSignedIn();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong user or password.' : `Sign-in failed: ${err instanceof Error ? err.message : err}`;
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  queueMicrotask(() => (user.value ? password : user).focus());
  return h('main.signin-page', null, form);
}
