// A stand-in for the dashboard function, for working on the console without rebuilding the stack: it
// serves shared/console/static from disk (as console.Handler does: /console/…, the version mark filled
// in) and answers the API either from fixtures or by passing requests on to a running stack.
//
//   node tests/browser/serve.mjs [upstream]   → http://127.0.0.1:<port>/console/
import { createServer } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const STATIC = join(here, "../../shared/console/static");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

// serveConsole starts the server; routes maps "METHOD /path" (no query) to [status, body] for the API
// when there is no upstream. It returns {url, close}.
export async function serveConsole({ upstream, routes = {} } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname.startsWith("/console/")) {
      const name = url.pathname.slice("/console/".length) || "index.html";
      const file = join(STATIC, name);
      if (name.includes("..") || !existsSync(file)) {
        res.writeHead(404).end("not found");
        return;
      }
      let data = readFileSync(file);
      if (name === "index.html") data = Buffer.from(data.toString().replaceAll("{{version}}", "dev"));
      res.writeHead(200, { "Content-Type": TYPES[extname(name)] || "application/octet-stream", "Cache-Control": "no-cache" });
      res.end(data);
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    if (upstream) {
      const r = await fetch(upstream + req.url, {
        method: req.method, body: req.method === "GET" ? undefined : Buffer.concat(chunks),
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => ["authorization", "content-type"].includes(k))),
      });
      res.writeHead(r.status, { "Content-Type": r.headers.get("content-type") || "application/json" });
      res.end(Buffer.from(await r.arrayBuffer()));
      return;
    }
    const route = routes[`${req.method} ${url.pathname}`];
    const [status, body] = typeof route === "function" ? route(url, Buffer.concat(chunks).toString()) : route || [404, { message: "Not Found" }];
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((ok) => server.close(ok)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = await serveConsole({ upstream: process.argv[2] || process.env.API || "http://127.0.0.1:3000" });
  console.log(`console: ${s.url}/console/`);
}
