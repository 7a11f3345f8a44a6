// The dashboard's entry: the customer portal at /portal, otherwise the
// operator dashboard, which signs in with an API key and trades it at once
// for a session token, so the key is never kept in the browser.
import { html, render, useState, useEffect, useCallback, api, session, setUnauthorizedHandler } from './lib.js';
import { Shell } from './shell.js';
import { PortalApp, takeToken } from './portal.js';

// The operator's session lasts a working day; signing out revokes it.
const OPERATOR_SESSION_SECONDS = 12 * 3600;

function SignIn({ onSignedIn, reason }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(reason || '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const s = await api('POST', '/portal_sessions', { expires_in: OPERATOR_SESSION_SECONDS }, key.trim());
      session.set({ token: s.token, id: s.id });
      setKey('');
      onSignedIn((await api('GET', '/event_types')).data);
    } catch (err) {
      session.clear();
      setError(err.status === 401 ? 'That API key was not accepted.'
        : err.status === 403 ? 'That API key lacks the subscriptions:write scope the dashboard needs.' : err.message);
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form class="card signin-card" onSubmit=${submit} aria-describedby="signin-help">
      <div class="brand brand-lg"><span class="logo" aria-hidden="true"></span>RevDesk Webhooks</div>
      <h1>Sign in</h1>
      <p id="signin-help" class="muted">Use an API key of your workspace (<code>rdk_…</code>).
        It is exchanged at once for a session of 12 hours; the key itself is not kept in the browser.</p>
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" required
        value=${key} onInput=${(e) => setKey(e.target.value)} />
      <div class="alert-slot" role="alert">${error && html`<p class="error">${error}</p>`}</div>
      <button class="primary wide" type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function App() {
  const [catalog, setCatalog] = useState(null);
  const [signedOutReason, setSignedOutReason] = useState('');
  const signOut = useCallback((reason = '') => {
    session.clear();
    setCatalog(null);
    setSignedOutReason(reason);
  }, []);
  useEffect(() => setUnauthorizedHandler(() => signOut('Your session ended or was revoked; sign in again.')), []);
  useEffect(() => {
    // A reload keeps the tab's session: check the stored token again.
    if (session.token()) api('GET', '/event_types').then((c) => setCatalog(c.data), () => session.clear());
  }, []);
  const end = async () => {
    const { id } = session.get() || {};
    try { if (id) await api('DELETE', `/portal_sessions/${id}`); } catch { /* signing out anyway */ }
    signOut('You signed out.');
  };
  if (!catalog) return html`<${SignIn} reason=${signedOutReason} onSignedIn=${setCatalog} />`;
  return html`<${Shell} catalog=${catalog} brand="RevDesk Webhooks" pages=${['subscriptions', 'events', 'live', 'endpoints']} onSignOut=${end} />`;
}

if (location.pathname === '/portal') {
  document.body.classList.add('portal');
  takeToken();
  // A new link opened in this tab changes only the fragment: start over
  // with its token.
  window.addEventListener('hashchange', () => { if (takeToken()) location.reload(); });
  render(html`<${PortalApp} />`, document.getElementById('app'));
} else {
  render(html`<${App} />`, document.getElementById('app'));
}
