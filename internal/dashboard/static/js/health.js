// A subscription's health: its last attempt and result, the success rate of
// its deliveries of the last 24 hours, how long it has been failing, why it
// is disabled and when automatic recovery probes it next; and the Replay
// control of a disabled or recovered subscription.
import { html, useState, api, query, usePoll, fmtTime } from './lib.js';

const DAY = 24 * 3600e3;

// healthOf reads a subscription's newest deliveries (up to 100: the rate is
// of those made in the last 24 hours among them).
async function healthOf(id) {
  const r = await api('GET', `/deliveries${query({ subscription_id: id, order: 'desc', limit: '100' })}`);
  const since = Date.now() - DAY;
  const day = r.data.filter((d) => new Date(d.created_at).getTime() >= since && d.status !== 'pending');
  const last = r.data.find((d) => d.attempt_count > 0);
  const ok = day.filter((d) => d.status === 'succeeded').length;
  return { last, rate: day.length ? Math.round((100 * ok) / day.length) : null, sample: day.length, more: r.has_more };
}

// rank orders subscriptions for the list: failing and disabled first.
export const rank = (s) => (s.status === 'disabled' ? 0 : s.failing_since ? 1 : 2);

export function Health({ sub, notify }) {
  const [h, setH] = useState(null);
  usePoll(async (stopped) => {
    const r = await healthOf(sub.id);
    if (!stopped()) setH(r);
  }, 5000, [sub.id, sub.status], (e) => notify(e.message, true));
  const state = sub.status === 'disabled' ? 'disabled' : sub.failing_since ? 'failing' : 'healthy';
  return html`<dl class="meta health" data-health=${state}>
    <div><dt>Health</dt><dd><span class=${`badge badge-${state === 'healthy' ? 'succeeded' : state === 'failing' ? 'pending' : 'failed'}`}>${state}</span></dd></div>
    <div><dt>Last attempt</dt><dd>${h && h.last ? html`${fmtTime(h.last.updated_at)}: ${h.last.status}${h.last.last_error ? ` (${h.last.last_error})` : ''}` : '—'}</dd></div>
    <div><dt>Success, 24 h</dt><dd>${h && h.rate !== null ? `${h.rate} % of ${h.sample}${h.more ? '+' : ''}` : '—'}</dd></div>
    ${sub.failing_since && html`<div><dt>Failing since</dt><dd>${fmtTime(sub.failing_since)} (${sub.consecutive_failures} in a row)</dd></div>`}
    ${sub.next_probe_at && html`<div><dt>Next probe</dt><dd>${fmtTime(sub.next_probe_at)}</dd></div>`}
    ${sub.status === 'disabled' && !sub.auto_recover && html`<div><dt>Recovery</dt><dd>off: enable by hand</dd></div>`}
  </dl>`;
}

const WINDOWS = [['1', 'last hour'], ['24', 'last 24 hours'], ['168', 'last 7 days']];

// Replay re-sends a window of the subscription's skipped and failed
// deliveries (or all of them); a disabled subscription is enabled first.
export function Replay({ sub, notify, onChanged }) {
  const [hours, setHours] = useState('24');
  const [all, setAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const [replay, setReplay] = useState(null);
  usePoll(async (stopped) => {
    if (!replay || replay.status === 'finished') return;
    const r = await api('GET', `/replays/${replay.id}`);
    if (!stopped()) setReplay(r);
  }, 1500, [replay && replay.id, replay && replay.status], (e) => notify(e.message, true));
  const run = async () => {
    setBusy(true);
    try {
      if (sub.status !== 'active') onChanged(await api('POST', `/webhook_subscriptions/${sub.id}/enable`));
      const since = new Date(Date.now() - Number(hours) * 3600e3).toISOString();
      const r = await api('POST', `/webhook_subscriptions/${sub.id}/replay`, { since, all });
      setReplay(r);
      notify(`Replay ${r.id} of ${sub.id} started.`);
    } catch (e) { notify(e.message, true); } finally { setBusy(false); }
  };
  const idp = `replay-${sub.id}`;
  const d = replay && replay.deliveries;
  return html`<div class="recover replay">
    <label for=${`${idp}-since`}>Replay the</label>
    <select id=${`${idp}-since`} value=${hours} onChange=${(e) => setHours(e.target.value)}>
      ${WINDOWS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
    </select>
    <label><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.target.checked)} /> succeeded ones too</label>
    <button type="button" disabled=${busy} onClick=${run}>${sub.status === 'active' ? 'Replay' : 'Enable and replay'}</button>
    ${replay && html`<p class="small" role="status">Replay <code>${replay.id}</code>: ${replay.status}, ${replay.queued} queued;
      ${d.succeeded} delivered, ${d.pending} pending, ${d.failed} failed, ${d.skipped} skipped.</p>`}
  </div>`;
}
