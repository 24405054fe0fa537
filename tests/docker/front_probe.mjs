// Run by tests/docker/test_front.py with node in the "laptop" container: what a machine on
// another network sees of the front. Prints one JSON object.
import https from "node:https";
import net from "node:net";
import { readFileSync } from "node:fs";

const front = process.env.FRONT_ADDRESS;
const port = Number(process.env.FRONT_PORT);
const ca = readFileSync("/ca.crt");
const names = JSON.parse(process.env.NAMES); // profile -> hostname
const tokens = JSON.parse(process.env.TOKENS); // profile -> token
const closed = JSON.parse(process.env.CLOSED_PORTS); // ports that must not answer on `front`

function request(name, path, { trust = true, host = name, method = "GET", body, token } = {}) {
  return new Promise((resolve) => {
    const headers = { Host: `${host}:${port}` };
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = https.request(
      { host: name, port, path, method, headers, servername: name, ca: trust ? ca : undefined },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.setTimeout(240000, () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ error: error.code || error.message }));
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

function connect(p) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: front, port: p });
    socket.setTimeout(3000, () => (socket.destroy(), resolve("timeout")));
    socket.on("connect", () => (socket.destroy(), resolve("open")));
    socket.on("error", (error) => resolve(error.code));
  });
}

const [first, second] = Object.keys(names);
const chat = { model: "openclaw", messages: [{ role: "user", content: "Say something." }] };
const result = { healthz: {}, chat: {} };
for (const [profile, name] of Object.entries(names)) {
  result.healthz[profile] = await request(name, "/healthz");
}
result.untrusted = await request(names[first], "/healthz", { trust: false });
result.unknownHost = await request(names[first], "/healthz", { host: "unknown.example.org" });
result.chat.own = await request(names[first], "/v1/chat/completions", {
  method: "POST", body: chat, token: tokens[first],
});
result.chat.other = await request(names[first], "/v1/chat/completions", {
  method: "POST", body: chat, token: tokens[second],
});
result.ports = {};
for (const p of closed) result.ports[p] = await connect(p);
console.log(JSON.stringify(result));
