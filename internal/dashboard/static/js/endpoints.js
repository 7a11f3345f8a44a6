// The endpoints view: per receiving endpoint (scheme://host:port of the
// workspace's subscriptions), the adaptive delivery state of the process
// that answers: limit, in flight, queued, latency and any pause.
import { html, useState, api, usePoll, fmtTime } from './lib.js';

const ms = (v) => (v == null ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);

export function Endpoints({ notify }) {
  const [rows, setRows] = useState(null);
  usePoll(async (stopped) => {
    const r = await api('GET', '/endpoints');
    if (!stopped()) setRows(r.data);
  }, 2000, [], (e) => notify(e.message, true));
  return html`<h1>Endpoints</h1>
  <section class="card" aria-label="Endpoint delivery state">
    <p class="muted small">Each endpoint gets as many requests at once as it answers well: the limit grows while its
      latency holds near its baseline and shrinks when it climbs or requests fail; a 429 or 503 pauses it.
      The state is this server process's.</p>
    ${rows === null && html`<p class="muted">Loading endpoints…</p>`}
    ${rows && rows.length === 0 && html`<p class="empty">No endpoints: no subscription yet.</p>`}
    ${rows && rows.length > 0 && html`<table class="rtable endpoints">
      <caption class="sr-only">Receiving endpoints and their delivery state</caption>
      <thead><tr><th scope="col">Endpoint</th><th scope="col">Subscriptions</th><th scope="col">Limit</th>
        <th scope="col">In flight</th><th scope="col">Queued</th><th scope="col">Latency (baseline)</th>
        <th scope="col">Paused until</th></tr></thead>
      <tbody>${rows.map((e) => html`<tr key=${e.endpoint} data-endpoint=${e.endpoint}>
        <td data-label="Endpoint"><code>${e.endpoint}</code></td>
        <td data-label="Subscriptions">${e.subscription_ids.length}</td>
        <td data-label="Limit">${e.limit ?? '—'}</td>
        <td data-label="In flight">${e.in_flight}</td>
        <td data-label="Queued">${e.queued}</td>
        <td data-label="Latency">${ms(e.latency_ms)} (${ms(e.baseline_latency_ms)})</td>
        <td data-label="Paused until">${e.paused_until ? html`<span class="badge badge-pending">${fmtTime(e.paused_until)}</span>` : '—'}</td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}
