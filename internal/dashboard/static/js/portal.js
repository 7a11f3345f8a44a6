// Portal mode (/portal): the dashboard for a platform's customer, on a
// short-lived portal session token, possibly inside the platform's iframe.
// No API keys, no live view (its metrics span every workspace); read-only
// sessions get no write controls; branding comes from the session.
import { html, useState, useEffect, api, session, setUnauthorizedHandler, fmtTime } from './lib.js';
import { Shell } from './shell.js';

// takeToken moves a token from the URL fragment (#token=…) into the tab's
// session storage and removes it from the address bar and history, so it is
// neither shown, bookmarked nor passed on. Fragments never reach the server.
// It reports whether there was one.
export function takeToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return false;
  session.set({ token });
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

function Expired() {
  return html`<main class="signin">
    <section class="card signin-card expired" role="alert" aria-labelledby="expired-title">
      <h1 id="expired-title">Session expired</h1>
      <p>This webhook portal session has expired or was revoked, so nothing more can be shown or changed here.</p>
      <p class="muted">Open the portal again from the page that brought you here to start a new session.</p>
    </section>
  </main>`;
}

// brand applies the session's colour; CSS derives the darker and softer
// shades from it.
function brand(info) {
  if (info.brand_color) document.documentElement.style.setProperty('--accent', info.brand_color);
  document.title = `${info.brand_name || 'Webhooks'} · webhooks`;
}

export function PortalApp() {
  const [state, setState] = useState(session.token() ? null : { expired: true });
  useEffect(() => {
    setUnauthorizedHandler(() => { session.clear(); setState({ expired: true }); });
    if (!session.token()) return;
    Promise.all([api('GET', '/portal_sessions/current'), api('GET', '/event_types')]).then(([info, catalog]) => {
      brand(info);
      setState({ info, catalog: catalog.data });
    }, () => setState({ expired: true }));
  }, []);
  // The page turns into the expired page when the session ends, not only at
  // the next request.
  const expiresAt = state && state.info && state.info.expires_at;
  useEffect(() => {
    if (!expiresAt) return undefined;
    const timer = setTimeout(() => { session.clear(); setState({ expired: true }); },
      Math.min(Math.max(0, Date.parse(expiresAt) - Date.now()), 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [expiresAt]);
  if (state === null) return html`<p class="muted loading">Loading…</p>`;
  if (state.expired) return html`<${Expired} />`;
  const { info, catalog } = state;
  return html`<${Shell} catalog=${catalog} brand=${info.brand_name || 'Webhooks'} pages=${['subscriptions', 'events']}
    readOnly=${info.read_only} note=${`${info.read_only ? 'Read-only · ' : ''}session ends ${fmtTime(info.expires_at)}`} />`;
}
