// A plain node:http receiver. Run after `npm run build`:
//   REVDESK_WEBHOOK_SECRET=whsec_… node --experimental-strip-types examples/node-http.ts
import { createServer } from "node:http";
import { createNodeHandler, Deduplicator } from "@revdesk/webhooks";

const seen = new Deduplicator();
const handler = createNodeHandler(
  { secrets: process.env.REVDESK_WEBHOOK_SECRET ?? "", require: "none", toleranceSeconds: 300 },
  (event, _req, res) => {
    if (!seen.first(event.deliveryId)) return; // already handled: the 204 acknowledges it
    if (!event.authenticated) console.warn(`${event.type} arrived unsigned (call/SMS without Standard Webhooks)`);
    if (event.type === "sms_failed") console.log("SMS failed:", event.data.error_message);
    res.writeHead(204).end();
  },
);
createServer(handler).listen(3000);
