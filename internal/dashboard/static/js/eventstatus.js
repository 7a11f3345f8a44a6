// EventStatus is an event's status badge in the event log: the worst of its
// deliveries' statuses (failed, then pending, skipped, succeeded).
import { html, useState, api, query, usePoll, Badge } from './lib.js';

const ORDER = ['failed', 'pending', 'skipped', 'succeeded'];

export function EventStatus({ eventId }) {
  const [status, setStatus] = useState(null);
  usePoll(async (stopped) => {
    if (status === 'succeeded' || status === 'failed' || status === 'none') return; // final
    const r = await api('GET', `/deliveries${query({ event_id: eventId, limit: '100' })}`);
    const seen = new Set(r.data.map((d) => d.status));
    if (!stopped()) setStatus(ORDER.find((s) => seen.has(s)) || 'none');
  }, 5000, [eventId, status]);
  if (!status) return null;
  return status === 'none' ? html` <span class="badge">no deliveries</span>` : html` <${Badge} status=${status} />`;
}
