// Subscriptions: create, list, edit, enable/disable, rotate secret, delete,
// bulk recovery of failed deliveries, test events (sent to one subscription
// only) and receiver checks. readOnly shows the list without any of the
// write controls.
import { html, useState, useEffect, api, query, fmtTime, scopeText, Badge, Confirm } from './lib.js';
import { Health, Replay, rank } from './health.js';

// unsigned: the subscription's deliveries carry no signature at all (a call
// or SMS type without Standard Webhooks), so a secret would mean nothing.
// typesOf is a subscription's event types: its one type, or its list.
const typesOf = (sub) => (sub.event_type ? [sub.event_type] : sub.event_types || []);
const typesText = (sub) => typesOf(sub).join(', ');
const unsigned = (sub, catalog) => !sub.standard_webhooks && !typesOf(sub).includes('*')
  && typesOf(sub).every((n) => !(catalog.find((t) => t.name === n) || {}).signed);

// headerLines reads "Name: value" lines into the API's headers object.
const headerLines = (text, secret, into) => {
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) into[line.slice(0, i).trim()] = secret ? { value: line.slice(i + 1).trim(), secret: true } : line.slice(i + 1).trim();
  }
  return into;
};

// CheckReport shows what POST /webhook_subscriptions/{id}/check found.
function CheckReport({ report, onClose }) {
  const verdict = !report.passed ? 'failed' : report.authenticated ? 'passed' : 'passed, but unauthenticated';
  return html`<section class="check" aria-label="Receiver check">
    <h4>Receiver check: <span class=${`badge badge-${report.passed ? 'succeeded' : 'failed'}`}>${verdict}</span></h4>
    <table class="rtable"><caption class="sr-only">Requests sent</caption>
      <thead><tr><th scope="col">Request</th><th scope="col">Sent</th><th scope="col">Answer</th><th scope="col">Right?</th></tr></thead>
      <tbody>${report.requests.map((q) => html`<tr>
        <td data-label="Request"><code>${q.name}</code> <span class="muted small">${q.kind}</span></td>
        <td data-label="Sent">${q.description}</td>
        <td data-label="Answer"><span class=${`code code-${String(q.status)[0]}`}>${q.status || q.error}</span></td>
        <td data-label="Right?">${q.ok ? 'yes' : 'no'}</td></tr>`)}</tbody>
    </table>
    ${report.findings.map((f) => html`<div class=${`finding ${f.severity}`}>
      <p><strong>${f.summary}</strong></p><p>${f.meaning}</p><p><em>Fix:</em> ${f.fix}</p></div>`)}
    <button type="button" class="link" onClick=${onClose}>Close the report</button>
  </section>`;
}

const SINCE = [['1', 'last hour'], ['24', 'last 24 hours'], ['168', 'last 7 days']];

function CreateForm({ catalog, onCreated, notify }) {
  const empty = { webhook_url: '', event_type: catalog[0].name, workflow_id: '', campaign_id: '', standard_webhooks: false,
    event_types: '', headers: '', secret_headers: '', filter: '' };
  const [f, setF] = useState(empty);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  // Functional updates: several input events can arrive before a render,
  // and each must build on the last, not on the state they were bound to.
  const set = (k) => (e) => { const v = e.target.value; setF((prev) => ({ ...prev, [k]: v })); };
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    const body = { webhook_url: f.webhook_url.trim(), event_type: f.event_type };
    if (f.workflow_id.trim()) body.workflow_id = f.workflow_id.trim();
    if (f.campaign_id.trim()) body.campaign_id = f.campaign_id.trim();
    if (f.standard_webhooks) body.standard_webhooks = true;
    if (f.event_types.trim()) {
      delete body.event_type;
      body.event_types = f.event_types.split(',').map((t) => t.trim()).filter(Boolean);
    }
    const headers = headerLines(f.secret_headers, true, headerLines(f.headers, false, {}));
    if (Object.keys(headers).length) body.headers = headers;
    if (f.filter.trim()) body.filter = f.filter.trim();
    try {
      const sub = await api('POST', '/webhook_subscriptions', body);
      setF(empty);
      onCreated(sub);
      notify(`Subscription ${sub.id} created.`);
    } catch (ex) {
      setErr(ex);
    } finally {
      setBusy(false);
    }
  };
  const invalid = (field) => (err && err.field === field ? 'true' : undefined);
  const families = [...new Set(catalog.map((t) => t.family))];
  return html`<form class="card create" onSubmit=${submit} aria-labelledby="create-title">
    <h2 id="create-title">New subscription</h2>
    <div class="grid">
      <div class="field span2">
        <label for="sub-url">Webhook URL</label>
        <input id="sub-url" type="url" required placeholder="https://example.com/webhooks/revdesk"
          value=${f.webhook_url} onInput=${set('webhook_url')} aria-invalid=${invalid('webhook_url')} />
      </div>
      <div class="field">
        <label for="sub-type">Event type</label>
        <select id="sub-type" value=${f.event_type} onChange=${set('event_type')} aria-invalid=${invalid('event_type')}>
          ${families.map((fam) => html`<optgroup label=${fam}>
            ${catalog.filter((t) => t.family === fam).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
          </optgroup>`)}
        </select>
        <p class="hint">${(catalog.find((t) => t.name === f.event_type) || {}).description}</p>
      </div>
      <div class="field">
        <label for="sub-wf">Workflow ID <span class="muted">(optional)</span></label>
        <input id="sub-wf" value=${f.workflow_id} onInput=${set('workflow_id')} />
      </div>
      <div class="field">
        <label for="sub-cmp">Campaign ID <span class="muted">(optional)</span></label>
        <input id="sub-cmp" value=${f.campaign_id} onInput=${set('campaign_id')} />
      </div>
      <div class="field span2">
        <label for="sub-types">Several event types <span class="muted">(optional: comma-separated, or * for all; replaces the one above)</span></label>
        <input id="sub-types" value=${f.event_types} onInput=${set('event_types')} aria-invalid=${invalid('event_types')}
          placeholder="sms_sent, sms_failed" />
      </div>
      <div class="field">
        <label for="sub-headers">Headers <span class="muted">(optional: Name: value, one a line)</span></label>
        <textarea id="sub-headers" rows="2" value=${f.headers} onInput=${set('headers')} aria-invalid=${invalid('headers')}></textarea>
      </div>
      <div class="field">
        <label for="sub-secret-headers">Secret headers <span class="muted">(never shown again)</span></label>
        <textarea id="sub-secret-headers" rows="2" value=${f.secret_headers} onInput=${set('secret_headers')}></textarea>
      </div>
      <div class="field span2">
        <label for="sub-filter">Filter <span class="muted">(optional CEL over data)</span></label>
        <input id="sub-filter" value=${f.filter} onInput=${set('filter')} aria-invalid=${invalid('filter')}
          placeholder='data.status == "VOICEMAIL" && data.duration_seconds > 30' />
      </div>
      <div class="field span2">
        <label><input id="sub-sw" type="checkbox" class="check-box" checked=${f.standard_webhooks}
          onChange=${(e) => { const on = e.target.checked; setF((prev) => ({ ...prev, standard_webhooks: on })); }} /> Standard Webhooks</label>
        <p class="hint">Also sign with webhook-id, webhook-timestamp and webhook-signature: replay protection,
          and the only signature call and SMS types get${unsigned(f, catalog) ? ` (${f.event_type} is otherwise delivered unsigned)` : ''}.</p>
      </div>
    </div>
    <div class="alert-slot" role="alert">${err && html`<p class="error">${err.message}</p>`}</div>
    <button class="primary" type="submit" disabled=${busy}>${busy ? 'Creating…' : 'Create subscription'}</button>
  </form>`;
}

// changes lists what the edit form changed, as a PATCH body: only the
// fields whose value differs from the subscription's.
function changes(sub, f) {
  const body = {};
  const text = (k) => { if (f[k].trim() !== (sub[k] || '')) body[k] = f[k].trim(); };
  text('webhook_url');
  text('workflow_id');
  text('campaign_id');
  const rate = f.rate_limit.trim() === '' ? null : Number(f.rate_limit);
  if (rate !== sub.rate_limit) body.rate_limit = rate;
  if (f.ordered !== sub.ordered) body.ordered = f.ordered;
  if (f.standard_webhooks !== sub.standard_webhooks) body.standard_webhooks = f.standard_webhooks;
  text('filter');
  const types = f.event_types.split(',').map((t) => t.trim()).filter(Boolean);
  if (types.length && types.join(',') !== (sub.event_types || []).join(',')) body.event_types = types;
  // Secret header values are never shown back, so headers are replaced
  // whole, and only when some are given.
  const headers = headerLines(f.secret_headers, true, headerLines(f.headers, false, {}));
  if (Object.keys(headers).length) body.headers = headers;
  return body;
}

// EditForm changes a subscription with PATCH.
function EditForm({ sub, onSaved, onCancel, notify }) {
  const [f, setF] = useState({
    webhook_url: sub.webhook_url, workflow_id: sub.workflow_id || '', campaign_id: sub.campaign_id || '',
    rate_limit: sub.rate_limit === null ? '' : String(sub.rate_limit), ordered: sub.ordered,
    standard_webhooks: sub.standard_webhooks, filter: sub.filter || '',
    event_types: (sub.event_types || []).join(', '), headers: '', secret_headers: '',
  });
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => {
    const v = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
    setF((prev) => ({ ...prev, [k]: v }));
  };
  const submit = async (e) => {
    e.preventDefault();
    const body = changes(sub, f);
    if (Object.keys(body).length === 0) { onCancel(); return; }
    setBusy(true);
    setErr(null);
    try {
      onSaved(await api('PATCH', `/webhook_subscriptions/${sub.id}`, body));
      notify(`Subscription ${sub.id} changed.`);
    } catch (ex) {
      setErr(ex);
    } finally {
      setBusy(false);
    }
  };
  const invalid = (field) => (err && err.field === field ? 'true' : undefined);
  const idp = `edit-${sub.id}`;
  return html`<form class="edit" onSubmit=${submit} aria-label=${`Edit ${sub.webhook_url}`}>
    <div class="grid">
      <div class="field span2">
        <label for=${`${idp}-url`}>Webhook URL</label>
        <input id=${`${idp}-url`} type="url" required value=${f.webhook_url} onInput=${set('webhook_url')}
          aria-invalid=${invalid('webhook_url')} />
      </div>
      <div class="field">
        <label for=${`${idp}-wf`}>Workflow ID <span class="muted">(empty: all)</span></label>
        <input id=${`${idp}-wf`} value=${f.workflow_id} onInput=${set('workflow_id')} />
      </div>
      <div class="field">
        <label for=${`${idp}-cmp`}>Campaign ID <span class="muted">(empty: all)</span></label>
        <input id=${`${idp}-cmp`} value=${f.campaign_id} onInput=${set('campaign_id')} />
      </div>
      <div class="field">
        <label for=${`${idp}-rate`}>Rate limit <span class="muted">(deliveries/s, empty: none)</span></label>
        <input id=${`${idp}-rate`} type="number" min="0" step="any" value=${f.rate_limit} onInput=${set('rate_limit')}
          aria-invalid=${invalid('rate_limit')} />
      </div>
      <div class="field">
        <label><input type="checkbox" class="check-box" checked=${f.ordered} onChange=${set('ordered')} /> Ordered per resource</label>
        <p class="hint">Events about one call, message or number go one at a time, in order.</p>
      </div>
      <div class="field">
        <label><input type="checkbox" class="check-box" checked=${f.standard_webhooks} onChange=${set('standard_webhooks')}
          aria-invalid=${invalid('signing_secret')} /> Standard Webhooks headers</label>
      </div>
      <div class="field span2">
        <label for=${`${idp}-types`}>Event types <span class="muted">(comma-separated, or *; empty: keep ${sub.event_type ? `the one type` : 'these'})</span></label>
        <input id=${`${idp}-types`} value=${f.event_types} onInput=${set('event_types')} aria-invalid=${invalid('event_types')} />
      </div>
      <div class="field span2">
        <label for=${`${idp}-filter`}>Filter <span class="muted">(CEL over data; empty: every event)</span></label>
        <input id=${`${idp}-filter`} value=${f.filter} onInput=${set('filter')} aria-invalid=${invalid('filter')} />
      </div>
      <div class="field">
        <label for=${`${idp}-headers`}>Replace headers <span class="muted">(Name: value a line; empty: keep)</span></label>
        <textarea id=${`${idp}-headers`} rows="2" value=${f.headers} onInput=${set('headers')} aria-invalid=${invalid('headers')}></textarea>
      </div>
      <div class="field">
        <label for=${`${idp}-sheaders`}>…and secret headers <span class="muted">(never shown again)</span></label>
        <textarea id=${`${idp}-sheaders`} rows="2" value=${f.secret_headers} onInput=${set('secret_headers')}></textarea>
      </div>
    </div>
    <div class="alert-slot" role="alert">${err && html`<p class="error">${err.message}</p>`}</div>
    <div class="actions">
      <button class="primary" type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  </form>`;
}

// SecretNotice shows a signing secret the one time the API returns it.
function SecretNotice({ secret, onDismiss }) {
  const copy = () => navigator.clipboard && navigator.clipboard.writeText(secret.value);
  return html`<section class="card notice" aria-labelledby="secret-title">
    <h2 id="secret-title">Signing secret for ${secret.id}</h2>
    <p>Store it now: it is shown only once.${secret.activeAt && ` The previous secret keeps signing until ${fmtTime(secret.activeAt)}.`}</p>
    ${secret.unsigned && html`<p>This event type is delivered unsigned without Standard Webhooks: the secret signs nothing until it is used.</p>`}
    <p><code class="secret" data-testid="secret">${secret.value}</code></p>
    <div class="actions">
      <button type="button" onClick=${copy}>Copy</button>
      <button type="button" onClick=${onDismiss}>I have stored it</button>
    </div>
  </section>`;
}

function SubscriptionCard({ sub, catalog, readOnly, notify, onChanged, onDeleted, onSecret, showEvent }) {
  const [confirm, setConfirm] = useState(null);
  const [editing, setEditing] = useState(false);
  const [since, setSince] = useState('24');
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState(null);
  const [checking, setChecking] = useState(false);
  const act = (f) => async () => {
    setBusy(true);
    setConfirm(null);
    try { await f(); } catch (ex) { notify(ex.message, true); } finally { setBusy(false); }
  };
  const toggle = act(async () => {
    const verb = sub.status === 'active' ? 'disable' : 'enable';
    onChanged(await api('POST', `/webhook_subscriptions/${sub.id}/${verb}`));
    notify(`Subscription ${sub.id} ${verb}d.`);
  });
  const rotate = (mode) => act(async () => {
    const r = await api('POST', `/webhook_subscriptions/${sub.id}/rotate_secret`, { mode });
    onChanged(r);
    onSecret({ id: sub.id, value: r.signing_secret, activeAt: mode === 'overlap' ? r.new_secret_active_at : null });
    notify(`Signing secret of ${sub.id} rotated.`);
  });
  const remove = act(async () => {
    await api('DELETE', `/webhook_subscriptions/${sub.id}`);
    onDeleted(sub.id);
    notify(`Subscription ${sub.id} deleted.`);
  });
  const retryFailed = act(async () => {
    const from = new Date(Date.now() - Number(since) * 3600e3).toISOString();
    const r = await api('POST', `/webhook_subscriptions/${sub.id}/retry_failed`, { since: from });
    notify(`${r.retried} failed ${r.retried === 1 ? 'delivery' : 'deliveries'} of ${sub.id} queued again.`);
  });
  const test = act(async () => {
    const r = await api('POST', `/webhook_subscriptions/${sub.id}/test`);
    setSent(r.event_id);
    notify(`Test ${typesOf(sub)[0]} event ${r.event_id} sent to ${sub.id} only.`);
  });
  const check = act(async () => {
    setChecking(true);
    try { setReport(await api('POST', `/webhook_subscriptions/${sub.id}/check`)); } finally { setChecking(false); }
  });
  const plain = unsigned(sub, catalog);
  const idp = `sub-${sub.id}`;
  return html`<li class="card sub" data-id=${sub.id} aria-labelledby=${`${idp}-url`}>
    <div class="sub-head">
      <h3 id=${`${idp}-url`} class="url">${sub.webhook_url}</h3>
      <${Badge} status=${sub.status} />
    </div>
    <dl class="meta">
      <div><dt>${sub.event_type ? 'Event type' : 'Event types'}</dt><dd><code>${typesText(sub)}</code></dd></div>
      <div><dt>Scope</dt><dd>${scopeText(sub)}</dd></div>
      <div><dt>ID</dt><dd><code>${sub.id}</code></dd></div>
      <div><dt>Created</dt><dd>${fmtTime(sub.created_at)}</dd></div>
      ${plain ? html`<div><dt>Signing</dt><dd>unsigned</dd></div>`
        : html`<div><dt>Secret</dt><dd>${sub.has_signing_secret ? 'set' : 'none'}${sub.standard_webhooks ? ' (Standard Webhooks)' : ''}</dd></div>`}
      <div><dt>Rate limit</dt><dd>${sub.rate_limit === null ? 'none' : `${sub.rate_limit}/s`}</dd></div>
      <div><dt>Ordered</dt><dd>${sub.ordered ? 'per resource' : 'no'}</dd></div>
      ${sub.disabled_reason && html`<div><dt>Disabled</dt><dd>${sub.disabled_reason}</dd></div>`}
      ${Object.keys(sub.headers || {}).length > 0 && html`<div><dt>Headers</dt><dd>${Object.entries(sub.headers)
        .map(([n, v]) => `${n}: ${typeof v === 'string' ? v : '•••• (secret)'}`).join('; ')}</dd></div>`}
      ${sub.filter && html`<div><dt>Filter</dt><dd><code>${sub.filter}</code></dd></div>`}
      ${sub.client_certificate && html`<div><dt>Client certificate</dt><dd>${sub.client_certificate.subject}
        (until ${fmtTime(sub.client_certificate.not_after)})</dd></div>`}
    </dl>
    <${Health} sub=${sub} notify=${notify} />
    ${plain && html`<p class="hint">${typesText(sub)} is delivered unsigned: the receiver cannot tell these deliveries
      from forged ones. To authenticate them, subscribe with Standard Webhooks, which signs every event type
      (webhook-signature); until then keep the URL secret or allow only RevDesk's addresses.</p>`}
    ${!readOnly && html`<div class="actions">
      <button type="button" class="primary" disabled=${busy || sub.status !== 'active'} onClick=${test}>Send test event</button>
      <button type="button" disabled=${busy} aria-expanded=${editing} onClick=${() => setEditing(!editing)}>Edit</button>
      <button type="button" disabled=${busy} onClick=${toggle}>${sub.status === 'active' ? 'Disable' : 'Enable'}</button>
      <button type="button" disabled=${busy} onClick=${check}>${checking ? 'Checking…' : 'Check receiver'}</button>
      ${!plain && html`<button type="button" disabled=${busy} onClick=${() => setConfirm('rotate')}>Rotate secret</button>`}
      <button type="button" class="danger" disabled=${busy} onClick=${() => setConfirm('delete')}>Delete</button>
    </div>`}
    <p><button type="button" class="link" onClick=${() => showEvent({ subscription: sub.id })}>View deliveries<span class="sr-only"> of ${sub.id}</span></button></p>
    ${report && html`<${CheckReport} report=${report} onClose=${() => setReport(null)} />`}
    ${editing && html`<${EditForm} sub=${sub} notify=${notify} onCancel=${() => setEditing(false)}
      onSaved=${(s) => { setEditing(false); onChanged(s); }} />`}
    ${sent && html`<p class="sent">Sent <code>${sent}</code>.
      <button type="button" class="link" onClick=${() => showEvent({ type: sub.event_type, id: sent })}>View deliveries</button></p>`}
    ${confirm === 'delete' && html`<${Confirm} text=${`Delete the subscription to ${sub.webhook_url}? No deliveries start for it afterwards.`}
      actions=${[{ label: 'Delete subscription', danger: true, run: remove }]} onCancel=${() => setConfirm(null)} />`}
    ${confirm === 'rotate' && html`<${Confirm} text="Rotate the signing secret? With overlap, the old secret keeps signing for 24 hours; rotate immediately if it leaked."
      actions=${[{ label: 'Rotate with overlap', run: rotate('overlap') }, { label: 'Rotate immediately', danger: true, run: rotate('immediate') }]}
      onCancel=${() => setConfirm(null)} />`}
    ${!readOnly && html`<div class="recover">
      <label for=${`${idp}-since`}>Retry failed deliveries from the</label>
      <select id=${`${idp}-since`} value=${since} onChange=${(e) => setSince(e.target.value)}>
        ${SINCE.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <button type="button" disabled=${busy} onClick=${retryFailed}>Retry failed</button>
    </div>`}
    ${!readOnly && html`<${Replay} sub=${sub} notify=${notify} onChanged=${onChanged} />`}
  </li>`;
}

export function Subscriptions({ catalog, notify, showEvent, readOnly }) {
  const [subs, setSubs] = useState(null);
  const [next, setNext] = useState(null);
  const [secret, setSecret] = useState(null);
  const load = async (after) => {
    try {
      const r = await api('GET', `/webhook_subscriptions${query({ limit: '50', after })}`);
      setSubs((cur) => (after ? [...cur, ...r.data] : r.data));
      setNext(r.has_more ? r.next_after : null);
    } catch (ex) { notify(ex.message, true); }
  };
  useEffect(() => { load(); }, []);
  const replace = (s) => setSubs((cur) => cur.map((x) => (x.id === s.id ? s : x)));
  const created = (s) => {
    setSubs((cur) => [...(cur || []), s]); // the API lists oldest first
    if (s.signing_secret) setSecret({ id: s.id, value: s.signing_secret, unsigned: unsigned(s, catalog) });
  };
  return html`<h1>Subscriptions</h1>
    ${!readOnly && html`<${CreateForm} catalog=${catalog} notify=${notify} onCreated=${created} />`}
    ${secret && html`<${SecretNotice} secret=${secret} onDismiss=${() => setSecret(null)} />`}
    <h2>Your subscriptions</h2>
    ${subs === null ? html`<p class="muted">Loading…</p>`
      : subs.length === 0 ? html`<p class="empty">No subscriptions yet.${!readOnly && ' Create one above.'}</p>`
      : html`<ul class="subs">${[...subs].sort((a, b) => rank(a) - rank(b)).map((s) => html`<${SubscriptionCard} key=${s.id} sub=${s} catalog=${catalog} readOnly=${readOnly}
          notify=${notify} onChanged=${replace} onSecret=${setSecret} showEvent=${showEvent}
          onDeleted=${(id) => setSubs((cur) => cur.filter((x) => x.id !== id))} />`)}</ul>`}
    ${next && html`<button type="button" onClick=${() => load(next)}>Load more</button>`}`;
}
