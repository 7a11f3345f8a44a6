// A Next.js App Router route handler: app/api/hooks/revdesk/route.ts.
// (Type-checked by `npm run check`; Next.js itself is not a dependency.)
// Route handlers get a Fetch Request, so the raw body is one call away;
// never verify `await request.json()` re-serialised.
import { Deduplicator, Verifier, WebhookVerificationError } from "@revdesk/webhooks";

const verifier = new Verifier({
  // During a rotation overlap, list the new secret and the previous one.
  secrets: (process.env.REVDESK_WEBHOOK_SECRETS ?? "").split(",").filter(Boolean),
  // Call and SMS events are unsigned unless the subscription was created
  // with "standard_webhooks": true; this refuses them otherwise.
  require: "signature",
});
const seen = new Deduplicator({ ttlSeconds: 48 * 3600 });

export const runtime = "nodejs"; // the SDK uses node:crypto

export async function POST(request: Request): Promise<Response> {
  const body = new Uint8Array(await request.arrayBuffer());
  let event;
  try {
    event = verifier.receive(body, request.headers);
  } catch (err) {
    if (err instanceof WebhookVerificationError) {
      return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status });
    }
    throw err;
  }
  if (!seen.first(event.deliveryId)) return new Response(null, { status: 200 }); // a repeat: acknowledge
  switch (event.type) {
    case "number_purchased":
      console.log("number live:", event.data.phone_number); // typed: NumberLifecycle
      break;
    case "call_voicemail":
      console.log("voicemail on", event.data.to_number, event.data.failure_code); // typed: CallRecord
      break;
    case "texting_registration_status_changed":
      console.log("texting enabled for", event.data.texting_enabled_numbers.join(", "));
      break;
  }
  return new Response(null, { status: 204 });
}
