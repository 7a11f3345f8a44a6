// A list of deliveries across events, newest first: the failed ones of the
// workspace, or one subscription's. Each row names the subscription's URL.
import { html, useState, useEffect, api, query, usePoll, fmtTime, Badge } from './lib.js';

// useSubscriptionURLs maps subscription ids to their webhook URLs.
export function useSubscriptionURLs(notify) {
  const [urls, setURLs] = useState({});
  useEffect(() => {
    api('GET', `/webhook_subscriptions${query({ limit: '100' })}`)
      .then((r) => setURLs(Object.fromEntries(r.data.map((s) => [s.id, s.webhook_url]))), (e) => notify(e.message, true));
  }, []);
  return urls;
}

export function SubscriptionCell({ id, urls }) {
  return html`${urls[id] ? html`<span class="url">${urls[id]}</span><br />` : ''}<code class="small">${id}</code>`;
}

export function DeliveryList({ subscriptionId, status, urls, notify, open }) {
  const [rows, setRows] = useState(null);
  usePoll(async (stopped) => {
    const r = await api('GET', `/deliveries${query({ subscription_id: subscriptionId, status, order: 'desc', limit: '50' })}`);
    if (!stopped()) setRows(r.data);
  }, 3000, [subscriptionId, status], (e) => notify(e.message, true));
  if (rows === null) return html`<p class="muted">Loading deliveries…</p>`;
  if (rows.length === 0) return html`<p class="empty">No ${status || ''} deliveries.</p>`;
  return html`<table class="rtable deliveries delivery-list">
    <caption class="sr-only">Deliveries, newest first</caption>
    <thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">Subscription</th>
      <th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Updated</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${rows.map((d) => html`<tr key=${d.id} data-id=${d.id}>
      <td data-label="Delivery"><code>${d.id}</code></td>
      <td data-label="Event"><code>${d.event_type}</code><br /><code class="small">${d.event_id}</code></td>
      <td data-label="Subscription"><${SubscriptionCell} id=${d.subscription_id} urls=${urls} /></td>
      <td data-label="Status"><${Badge} status=${d.status} /></td>
      <td data-label="Attempts">${d.attempt_count}</td>
      <td data-label="Updated">${fmtTime(d.updated_at)}</td>
      <td><button type="button" onClick=${() => open(d.id)}>Attempts<span class="sr-only"> of ${d.id}</span></button></td>
    </tr>`)}</tbody>
  </table>`;
}
