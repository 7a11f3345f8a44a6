// The event log: events filtered by type, each event's deliveries, and a
// delivery's attempts with a retry button.
import { html, useState, useEffect, useRef, api, query, usePoll, fmtTime, scopeText, Badge } from './lib.js';
import { DeliveryList, SubscriptionCell, useSubscriptionURLs } from './deliverylist.js';
import { EventStatus } from './eventstatus.js';

const ms = (v) => (v == null ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);

function Attempts({ attempts }) {
  if (attempts.length === 0) return html`<p class="empty">No attempt yet.</p>`;
  return html`<table class="rtable attempts">
    <caption class="sr-only">Delivery attempts, newest last</caption>
    <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Status code</th>
      <th scope="col">Latency</th><th scope="col">Error class</th><th scope="col">Response body (start)</th></tr></thead>
    <tbody>${attempts.map((a) => html`<tr key=${a.number}>
      <td data-label="#">${a.number}</td>
      <td data-label="Time">${fmtTime(a.at)}</td>
      <td data-label="Status code"><span class=${`code code-${String(a.status_code || 0)[0]}`}>${a.status_code || '—'}</span></td>
      <td data-label="Latency">${ms(a.latency_ms)}</td>
      <td data-label="Error class">${a.error_class || 'none'}${a.error && html`<div class="muted small">${a.error}</div>`}</td>
      <td data-label="Response body"><code class="body">${(a.response_body || '').slice(0, 200) || '—'}</code></td>
    </tr>`)}</tbody>
  </table>`;
}

function DeliveryDetail({ id, notify, onBack, readOnly, urls }) {
  const [d, setD] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef();
  useEffect(() => heading.current && heading.current.focus(), []);
  // Polled so new attempts (retries, manual or scheduled) show up by themselves.
  usePoll(async (stopped) => {
    const r = await api('GET', `/deliveries/${id}`);
    if (!stopped()) setD(r);
  }, 1500, [id], (e) => notify(e.message, true));
  const retry = async () => {
    setBusy(true);
    try {
      setD({ ...d, ...(await api('POST', `/deliveries/${id}/retry`)) });
      notify(`Delivery ${id} queued for another attempt.`);
    } catch (e) { notify(e.message, true); } finally { setBusy(false); }
  };
  return html`<section class="card delivery" aria-labelledby="dlv-title">
    <button type="button" class="link back" onClick=${onBack}>← Back to event log</button>
    <div class="sub-head">
      <h2 id="dlv-title" tabindex="-1" ref=${heading}>Delivery <code>${id}</code></h2>
      ${d && html`<${Badge} status=${d.status} />`}
    </div>
    ${d && html`<dl class="meta">
        <div><dt>Event</dt><dd><code>${d.event_id}</code> (${d.event_type})</dd></div>
        <div><dt>Subscription</dt><dd><${SubscriptionCell} id=${d.subscription_id} urls=${urls} /></dd></div>
        <div><dt>Attempts</dt><dd>${d.attempt_count}</dd></div>
        <div><dt>Next attempt</dt><dd>${fmtTime(d.next_attempt_at)}</dd></div>
      </dl>
      ${!readOnly && html`<div class="actions"><button type="button" class="primary" disabled=${busy} onClick=${retry}>Retry now</button></div>`}
      ${d.request && html`<details class="request"><summary>Request sent: ${d.request.method} ${d.request.url}</summary>
        <pre>${Object.entries(d.request.headers).sort().map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
        <pre>${d.request.body}</pre>
        <p class="muted small">Every attempt sent this body and these routing headers; signatures as computed at
          ${fmtTime(d.request.signatures_computed_at)} with the current secret.</p></details>`}
      <h3>Attempts</h3>
      <p class="muted small">Each attempt's response: status, latency, error and the start of its body.</p>
      <${Attempts} attempts=${d.attempts} />`}
  </section>`;
}

function Deliveries({ eventId, notify, open, urls }) {
  const [rows, setRows] = useState(null);
  usePoll(async (stopped) => {
    const r = await api('GET', `/deliveries${query({ event_id: eventId, limit: '100' })}`);
    if (!stopped()) setRows(r.data);
  }, 2000, [eventId], (e) => notify(e.message, true));
  if (rows === null) return html`<p class="muted">Loading deliveries…</p>`;
  if (rows.length === 0) return html`<p class="empty">No deliveries: no active subscription matched this event.</p>`;
  return html`<table class="rtable deliveries">
    <caption class="sr-only">Deliveries of event ${eventId}</caption>
    <thead><tr><th scope="col">Delivery</th><th scope="col">Subscription</th><th scope="col">Status</th>
      <th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${rows.map((d) => html`<tr key=${d.id} data-id=${d.id}>
      <td data-label="Delivery"><code>${d.id}</code></td>
      <td data-label="Subscription"><${SubscriptionCell} id=${d.subscription_id} urls=${urls} /></td>
      <td data-label="Status"><${Badge} status=${d.status} /></td>
      <td data-label="Attempts">${d.attempt_count}</td>
      <td data-label="Last error">${d.last_error || '—'}</td>
      <td><button type="button" onClick=${() => open(d.id)}>Attempts<span class="sr-only"> of ${d.id}</span></button></td>
    </tr>`)}</tbody>
  </table>`;
}

function EventItem({ ev, expanded, toggle, notify, open, urls }) {
  const panel = `ev-${ev.id}`;
  return html`<li class="card event" data-id=${ev.id}>
    <div class="event-head">
      <div>
        <code class="type">${ev.event_type}</code>${ev.test && html` <span class="badge badge-test">test</span>`}
        <${EventStatus} eventId=${ev.id} />
        <span class="muted"> ${fmtTime(ev.occurred_at)}</span>
        <div class="small"><code>${ev.id}</code> · scope ${scopeText(ev)}
          ${ev.source_event_id && html` · derived from <code>${ev.source_event_id}</code>`}</div>
      </div>
      <button type="button" aria-expanded=${expanded ? 'true' : 'false'} aria-controls=${panel} onClick=${toggle}>
        ${expanded ? 'Hide deliveries' : 'Deliveries'}<span class="sr-only"> of ${ev.id}</span>
      </button>
    </div>
    ${expanded && html`<div id=${panel} class="event-body">
      <${Deliveries} eventId=${ev.id} notify=${notify} open=${open} urls=${urls} />
      <details><summary>Event data</summary><pre>${JSON.stringify(ev.data, null, 2)}</pre></details>
    </div>`}
  </li>`;
}

export function Events({ catalog, notify, focus, readOnly }) {
  const [type, setType] = useState(focus ? focus.type : '');
  const [events, setEvents] = useState(null);
  const [next, setNext] = useState(null);
  // The event asked for (a test send, or a derived disposition found by its
  // source) is shown on its own on top, so it stays in view as the log grows.
  const [pinned, setPinned] = useState(null);
  const [expanded, setExpanded] = useState(focus ? [focus.id] : []);
  const [delivery, setDelivery] = useState(null);
  // "Failed only", or one subscription's deliveries ("View deliveries"),
  // list deliveries rather than events.
  const [failedOnly, setFailedOnly] = useState(false);
  const bySubscription = focus && focus.subscription;
  const urls = useSubscriptionURLs(notify);
  const load = async (after) => {
    try {
      const r = await api('GET', `/events${query({ event_type: type, limit: '25', after, order: 'desc' })}`);
      setEvents((cur) => (after ? [...cur, ...r.data] : r.data));
      setNext(r.has_more ? r.next_after : null);
    } catch (e) { notify(e.message, true); }
  };
  useEffect(() => { load(); }, [type]);
  useEffect(() => {
    if (focus && focus.id) api('GET', `/events/${focus.id}`).then(setPinned, (e) => notify(e.message, true));
  }, [focus]);
  const toggle = (id) => setExpanded((cur) => (cur.includes(id) ? cur.filter((x) => x !== id) : [...cur, id]));
  const item = (ev) => html`<${EventItem} key=${ev.id} ev=${ev} expanded=${expanded.includes(ev.id)}
    toggle=${() => toggle(ev.id)} notify=${notify} open=${setDelivery} urls=${urls} />`;
  const rest = events && events.filter((ev) => !pinned || ev.id !== pinned.id);

  if (delivery) return html`<h1 class="sr-only">Event log</h1><${DeliveryDetail} id=${delivery} notify=${notify} readOnly=${readOnly} urls=${urls} onBack=${() => setDelivery(null)} />`;
  if (bySubscription) return html`<h1>Deliveries of ${urls[bySubscription] || bySubscription}</h1>
    <p class="muted small">Newest first. <code>${bySubscription}</code></p>
    <${DeliveryList} subscriptionId=${bySubscription} urls=${urls} notify=${notify} open=${setDelivery} />`;
  return html`<h1>Event log</h1>
    <div class="toolbar">
      <div class="field inline">
        <label for="ev-type">Event type</label>
        <select id="ev-type" value=${type} onChange=${(e) => setType(e.target.value)}>
          <option value="">All event types</option>
          ${catalog.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      </div>
      <label><input type="checkbox" id="ev-failed" checked=${failedOnly} onChange=${(e) => setFailedOnly(e.target.checked)} /> Failed only</label>
      <button type="button" onClick=${() => load()}>Refresh</button>
    </div>
    ${failedOnly && html`<p class="muted small">Failed deliveries, newest first.</p>
      <${DeliveryList} status="failed" urls=${urls} notify=${notify} open=${setDelivery} />`}
    ${!failedOnly && html`${pinned && html`<h2>Selected event</h2><ul class="events pinned">${item(pinned)}</ul><h2>All events</h2>`}
    <p class="muted small">Newest first.</p>
    ${rest === null ? html`<p class="muted">Loading…</p>`
      : rest.length === 0 ? html`<p class="empty">No ${pinned ? 'other ' : ''}events${type && ` of type ${type}`} yet.</p>`
      : html`<ul class="events">${rest.map(item)}</ul>`}
    ${next && html`<button type="button" onClick=${() => load(next)}>Load more</button>`}`}`;
}
