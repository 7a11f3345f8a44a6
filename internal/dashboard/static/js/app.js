// The dashboard shell: sign-in, navigation and status messages.
import { html, render, useState, useEffect, useCallback, api, session, setUnauthorizedHandler } from './lib.js';
import { Subscriptions } from './subscriptions.js';
import { Events } from './events.js';
import { Live, useMetrics } from './live.js';
import { Endpoints } from './endpoints.js';

function SignIn({ onSignedIn, reason }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(reason || '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      // Any authenticated call proves the key; the catalog is needed next anyway.
      const catalog = await api('GET', '/event_types', undefined, key.trim());
      session.set(key.trim());
      onSignedIn(catalog.data);
    } catch (err) {
      setError(err.status === 401 ? 'That API key was not accepted.' : err.message);
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form class="card signin-card" onSubmit=${submit} aria-describedby="signin-help">
      <div class="brand brand-lg"><span class="logo" aria-hidden="true"></span>RevDesk Webhooks</div>
      <h1>Sign in</h1>
      <p id="signin-help" class="muted">Use an API key of your workspace (<code>rdk_…</code>).
        It is kept in this browser tab only and sent to this server's API.</p>
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" required
        value=${key} onInput=${(e) => setKey(e.target.value)} />
      <div class="alert-slot" role="alert">${error && html`<p class="error">${error}</p>`}</div>
      <button class="primary wide" type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

const PAGES = [
  ['subscriptions', 'Subscriptions'],
  ['events', 'Event log'],
  ['live', 'Live'],
  ['endpoints', 'Endpoints'],
];

function App() {
  const [catalog, setCatalog] = useState(null);
  const [signedOutReason, setSignedOutReason] = useState('');
  const [page, setPage] = useState('subscriptions');
  // focus asks the event log to open one event's deliveries.
  const [focus, setFocus] = useState(null);
  const [status, setStatus] = useState({ text: '', error: false });
  const metrics = useMetrics(catalog !== null);

  const signOut = useCallback((reason = '') => {
    session.clear();
    setCatalog(null);
    setSignedOutReason(reason);
  }, []);
  useEffect(() => setUnauthorizedHandler(() => signOut('Your API key is no longer accepted; sign in again.')), []);
  useEffect(() => {
    // A reload keeps the tab's session: check the stored key again.
    if (session.get()) api('GET', '/event_types').then((c) => setCatalog(c.data), () => session.clear());
  }, []);

  const notify = useCallback((text, error = false) => setStatus({ text, error }), []);
  const go = (p, f = null) => { setPage(p); setFocus(f); setStatus({ text: '', error: false }); };

  if (!catalog) return html`<${SignIn} reason=${signedOutReason} onSignedIn=${(c) => { setCatalog(c); setPage('subscriptions'); }} />`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <div class="brand"><span class="logo" aria-hidden="true"></span>RevDesk Webhooks</div>
      <nav aria-label="Sections">
        ${PAGES.map(([id, label]) => html`<button type="button" class="nav" aria-current=${page === id ? 'page' : undefined}
          onClick=${() => go(id)}>${label}</button>`)}
      </nav>
      <button type="button" class="signout" onClick=${() => signOut('You signed out.')}>Sign out</button>
    </header>
    <div class="status-bar">
      <div role="status" aria-live="polite" class=${status.text && !status.error ? 'status ok' : 'status'}>${!status.error && status.text}</div>
      <div role="alert" class=${status.error ? 'status error' : 'status'}>${status.error && status.text}</div>
    </div>
    <main id="main" tabindex="-1">
      ${page === 'subscriptions' && html`<${Subscriptions} catalog=${catalog} notify=${notify}
        showEvent=${(f) => go('events', f)} />`}
      ${page === 'events' && html`<${Events} catalog=${catalog} notify=${notify} focus=${focus} />`}
      ${page === 'live' && html`<${Live} metrics=${metrics} />`}
      ${page === 'endpoints' && html`<${Endpoints} notify=${notify} />`}
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
