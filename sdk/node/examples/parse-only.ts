// parseEvent alone, e.g. for a body verified elsewhere: `type` still narrows `data`.
import { parseEvent, verifySignature } from "@revdesk/webhooks";

export function handle(rawBody: Uint8Array, eventType: string, signature: string, secret: string): string {
  verifySignature(rawBody, signature, secret);
  const event = parseEvent(eventType, rawBody);
  switch (event.type) {
    case "number_released":
      return `released …${event.data.phone_number.slice(-4)} (${event.data.status.toLowerCase()})`;
    case "contact_created":
      return `contact ${event.data.first_name ?? "?"} ${event.data.last_name ?? ""}`;
    default:
      return event.type;
  }
}
