// A service at the store in JavaScript, with nothing but Node.js (18 or later) and its standard library: it shows that
// the store's event API is a contract any language can use. It reads the store's stock counts from its durable
// subscription, records for each one a ShelfChecked event of its own type on its own topic, and acknowledges what it
// has handled, so that a restart resumes after it.
//
//   OUTPOST_URL=http://127.0.0.1:5080 OUTPOST_TOKEN=<the service's token> node shelf-audit.mjs [count]
//
// It stops after `count` stock counts (default: never) and prints one JSON line of what it did.
// Its producer's sequence is the position of the stock count it answers: one number a retry sends again, so the
// store records each ShelfChecked once however often this process dies and starts over.

const base = process.env.OUTPOST_URL;
const token = process.env.OUTPOST_TOKEN;
const wanted = Number(process.argv[2] ?? Infinity);
if (!base || !token) {
  console.error("Set OUTPOST_URL (the store server) and OUTPOST_TOKEN (the service's token from the back office).");
  process.exit(2);
}

const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const topic = "shelf-audit";
const subscription = "shelf-audit";

async function call(method, path, body) {
  const response = await fetch(new URL(path, base), { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Our own event type: registering the same schema again is a 200, so every start may do it.
await call("PUT", `/api/contracts/${topic}/ShelfChecked/1`, {
  type: "object",
  properties: { gtin: { type: "string" }, counted: { type: "number" }, countedAt: { type: "integer" } },
  required: ["gtin", "counted", "countedAt"],
  additionalProperties: false,
});

// The subscription's stream: Server-Sent Events, parsed by hand (blank line ends an item; "event:", "data:" fields).
const response = await fetch(new URL(`/api/subscriptions/${subscription}/events?topics=stock&types=StockCounted`, base), { headers });
if (!response.ok) throw new Error(`subscribe: ${response.status} ${await response.text()}`);

let handled = 0, published = 0, duplicates = 0, buffer = "";
const decoder = new TextDecoder();
const reader = response.body.getReader();
outer: while (handled < wanted) {
  const { value, done } = await reader.read();
  if (done) break;
  buffer += decoder.decode(value, { stream: true });
  let end;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    let type = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) type = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trimStart();
    }
    if (type === "gone") throw new Error(`fell behind the store's retention: ${data}`);
    if (type !== "StockCounted") continue; // heartbeats
    const e = JSON.parse(data);
    const answer = await call("POST", "/api/events", {
      producer: "shelf-audit-node",
      sparse: true, // our numbers are the positions we answer: increasing, with gaps
      events: [{ seq: e.position, topic, type: "ShelfChecked", key: e.key,
        payload: { gtin: e.payload.gtin, counted: e.payload.quantity, countedAt: e.position } }],
    });
    published += answer.appended;
    duplicates += answer.duplicates;
    await call("POST", `/api/subscriptions/${subscription}/ack`, { position: e.position });
    if (++handled >= wanted) break outer;
  }
}

await reader.cancel();
console.log(JSON.stringify({ handled, published, duplicates }));
