// The frame around every page, shared by the operator dashboard and the
// customer portal: brand, navigation, status messages and the pages.
import { html, useState, useCallback } from './lib.js';
import { Subscriptions } from './subscriptions.js';
import { Events } from './events.js';
import { Live, useMetrics } from './live.js';
import { Endpoints } from './endpoints.js';

const ALL_PAGES = [
  ['subscriptions', 'Subscriptions'],
  ['events', 'Event log'],
  ['live', 'Live'],
  ['endpoints', 'Endpoints'],
];

// Shell shows the pages named in `pages`; readOnly hides every write
// control. onSignOut, when given, adds a sign-out button.
export function Shell({ catalog, brand, pages, readOnly = false, onSignOut, note }) {
  const [page, setPage] = useState('subscriptions');
  // focus asks the event log to open one event's deliveries.
  const [focus, setFocus] = useState(null);
  const [status, setStatus] = useState({ text: '', error: false });
  const metrics = useMetrics(pages.includes('live'));
  const notify = useCallback((text, error = false) => setStatus({ text, error }), []);
  const go = (p, f = null) => { setPage(p); setFocus(f); setStatus({ text: '', error: false }); };
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <div class="brand"><span class="logo" aria-hidden="true"></span>${brand}</div>
      <nav aria-label="Sections">
        ${ALL_PAGES.filter(([id]) => pages.includes(id)).map(([id, label]) => html`<button type="button" class="nav"
          aria-current=${page === id ? 'page' : undefined} onClick=${() => go(id)}>${label}</button>`)}
      </nav>
      ${note && html`<span class="muted small topnote">${note}</span>`}
      ${onSignOut && html`<button type="button" class="signout" onClick=${onSignOut}>Sign out</button>`}
    </header>
    <div class="status-bar">
      <div role="status" aria-live="polite" class=${status.text && !status.error ? 'status ok' : 'status'}>${!status.error && status.text}</div>
      <div role="alert" class=${status.error ? 'status error' : 'status'}>${status.error && status.text}</div>
    </div>
    <main id="main" tabindex="-1">
      ${page === 'subscriptions' && html`<${Subscriptions} catalog=${catalog} notify=${notify} readOnly=${readOnly}
        showEvent=${(f) => go('events', f)} />`}
      ${page === 'events' && html`<${Events} catalog=${catalog} notify=${notify} focus=${focus} readOnly=${readOnly} />`}
      ${page === 'live' && html`<${Live} metrics=${metrics} />`}
      ${page === 'endpoints' && html`<${Endpoints} notify=${notify} />`}
    </main>`;
}
