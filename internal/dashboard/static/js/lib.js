// Shared pieces: the Preact/htm bindings, the API client and formatting.
// The vendored UMD scripts in index.html define the globals read here.

const { h, render } = window.preact;
export const { useState, useEffect, useRef, useCallback } = window.preactHooks;
export const html = window.htm.bind(h);
export { render };

// The portal (/portal) and the operator dashboard keep their sessions apart,
// so a customer's link opened in a tab never becomes the operator's session.
const KEY = location.pathname === '/portal' ? 'revdesk.portal' : 'revdesk.session';

// The browser holds a portal session token ({token, id}), never an API key:
// the operator's key is traded for one at sign-in, and the portal's arrives
// in the URL fragment. It lives in sessionStorage only: it ends with the tab
// and never appears in a URL sent to the server.
export const session = {
  get: () => JSON.parse(sessionStorage.getItem(KEY) || 'null'),
  set: (s) => sessionStorage.setItem(KEY, JSON.stringify(s)),
  clear: () => sessionStorage.removeItem(KEY),
  token: () => (session.get() || {}).token,
};

// ApiError carries the API's {"error":{"code","message","field"}} body.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed with HTTP ${status}`);
    this.status = status;
    this.code = e.code;
    this.field = e.field;
  }
}

// onUnauthorized is set by the app so a revoked or expired session signs the
// user out.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

// api calls the JSON API with the session's token (or the given
// credential); path is relative to /api/v1.
export async function api(method, path, body, key = session.token()) {
  // X-Revdesk-Client names the dashboard in operational events
  // (subscription_enabled "by": "dashboard").
  const headers = { Authorization: `Bearer ${key}`, 'X-Revdesk-Client': 'dashboard' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

// usePoll runs f now and every ms milliseconds while the component is shown
// and deps are unchanged; f's errors go to onError.
export function usePoll(f, ms, deps, onError = () => {}) {
  useEffect(() => {
    let stopped = false;
    let timer;
    const tick = async () => {
      try { await f(() => stopped); } catch (e) { if (!stopped) onError(e); }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  }, deps);
}

const timeFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
export const fmtTime = (iso) => (iso ? timeFmt.format(new Date(iso)) : '—');

export const scopeText = (o) => [
  o.workflow_id && `workflow ${o.workflow_id}`,
  o.campaign_id && `campaign ${o.campaign_id}`,
].filter(Boolean).join(', ') || 'all';

export function Badge({ status }) {
  return html`<span class=${`badge badge-${status}`}>${status}</span>`;
}

// Confirm shows an inline confirmation instead of window.confirm, so it is
// styled, announced and reachable by keyboard like the rest of the page.
export function Confirm({ text, actions, onCancel }) {
  const first = useRef();
  useEffect(() => first.current && first.current.focus(), []);
  return html`<div class="confirm" role="group" aria-label="Confirm">
    <p>${text}</p>
    <div class="actions">
      ${actions.map((a, i) => html`<button type="button" class=${a.danger ? 'danger' : 'primary'}
        ref=${i === 0 ? first : undefined} onClick=${a.run}>${a.label}</button>`)}
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </div>`;
}
