// Test-only MCP Apps host: the official AppBridge (@modelcontextprotocol/ext-apps/app-bridge) and the MCP TS SDK
// client, connected to a running zerobyte-mcp over streamable HTTP; the app (the server's ui:// resource) renders in
// a sandboxed iframe (sandbox="allow-scripts", opaque origin, no network by CSP) in headless Chromium.
// The bridge runs in Node; a small relay carries its JSON-RPC messages to and from the iframe's postMessage.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";
import { chromium } from "playwright-core";

export const APP_URI = "ui://zerobyte/backups.html";
export const APP_MIME = "text/html;profile=mcp-app";
export const EXTENSION_ID = "io.modelcontextprotocol/ui";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<style>html,body{margin:0;background:#8882}iframe{display:block;border:0;width:100%;height:200px}</style></head>
<body><iframe id="app" title="MCP app" sandbox="allow-scripts"></iframe><script>
const f = document.getElementById("app");
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
window.addEventListener("message", (e) => { if (e.source === f.contentWindow) window.__toHost(JSON.stringify(e.data)); });
window.__toApp = (m) => f.contentWindow.postMessage(JSON.parse(m), "*");
window.__load = (html) => { f.srcdoc = html; };
window.__height = (h) => { f.style.height = Math.max(50, Math.ceil(h)) + "px"; };
</script></body></html>`;

/** A Transport (MCP TS SDK shape) relaying to the iframe in the browser page. */
class IframeRelay {
  constructor(page) { this.page = page; this.onmessage = undefined; this.onclose = undefined; this.onerror = undefined; }
  async start() {}
  async send(message) { await this.page.evaluate((m) => window.__toApp(m), JSON.stringify(message)); }
  async close() { this.onclose?.(); }
}

export async function connectClient(url = process.env.MCP_URL, token = process.env.MCP_TOKEN) {
  if (!url) throw new Error("MCP_URL is not set");
  // A host that renders MCP Apps says so (SEP-1865): the server then answers UI tools with their chart series.
  const client = new Client({ name: "zerobyte-app-test-host", version: "1.0.0" },
    { capabilities: { extensions: { [EXTENSION_ID]: { mimeTypes: [APP_MIME] } } } });
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** A CallToolResult's data as the page reads it: structuredContent (raw values), else the JSON text. */
export function data(result) {
  if (result.isError) throw new Error("tool error: " + (result.content?.[0]?.text ?? ""));
  return result.structuredContent ?? shown(result);
}

/** The JSON text of a CallToolResult: what an agent reads (sizes with *_text beside, untrusted text marked). */
export function shown(result) {
  if (result.isError) throw new Error("tool error: " + (result.content?.[0]?.text ?? ""));
  const t = result.content?.[0]?.text ?? "";
  try { return JSON.parse(t); } catch { return { text: t }; }
}

/**
 * Open the app for one UI tool call, as a chat host does: read the tool's ui:// resource, render it, initialize
 * through AppBridge, then deliver tool-input and tool-result. Returns handles and the recorded traffic.
 */
export async function openApp({ client, tool = "show_backups", args = {}, theme = "light", width = 1000, height = 900,
  locale = "en-GB", timeZone = "Europe/Berlin", browser } = {}) {
  const tools = (await client.listTools()).tools;
  const def = tools.find((t) => t.name === tool);
  if (!def) throw new Error(`the server offers no tool ${tool}`);
  const uri = getToolUiResourceUri(def);
  if (uri !== APP_URI) throw new Error(`${tool} is bound to ${uri}, expected ${APP_URI}`);
  const res = await client.readResource({ uri });
  const content = res.contents[0];
  if (!content?.text) throw new Error(`${uri} has no text`);
  const ownBrowser = !browser;
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1, colorScheme: theme });
  const log = { calls: [], sizes: [], console: [], requests: [], initialized: false, resource: content };
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") log.console.push(m.text()); });
  page.on("pageerror", (e) => log.console.push("pageerror: " + e.message));
  page.on("request", (r) => log.requests.push(r.url()));
  await page.setContent(HOST_PAGE);
  const relay = new IframeRelay(page);
  await page.exposeFunction("__toHost", (s) => relay.onmessage?.(JSON.parse(s)));

  const hostContext = { theme, locale, timeZone, displayMode: "inline", availableDisplayModes: ["inline"],
    platform: "web", containerDimensions: { width, maxHeight: 4000 } };
  const bridge = new AppBridge(null, { name: "zerobyte-app-test-host", version: "1.0.0" },
    { serverTools: {}, logging: {} }, { hostContext });
  bridge.oncalltool = async (params) => {
    log.calls.push({ name: params.name, arguments: params.arguments ?? {} });
    return client.callTool({ name: params.name, arguments: params.arguments ?? {} });
  };
  bridge.onsizechange = ({ height: h }) => {
    if (typeof h === "number") { log.sizes.push(h); page.evaluate((x) => window.__height(x), h).catch(() => {}); }
  };
  const ready = new Promise((resolve) => { bridge.oninitialized = () => { log.initialized = true; resolve(); }; });
  await bridge.connect(relay);
  await page.evaluate((html) => window.__load(html), content.text);
  await withTimeout(ready, 10000, "the app never sent ui/notifications/initialized");

  const result = await client.callTool({ name: tool, arguments: args });
  await bridge.sendToolInput({ arguments: args });
  await bridge.sendToolResult(result);
  const app = page.frameLocator("#app");
  return {
    page, app, bridge, log, result, data: data(result),
    frame: () => page.frames().find((f) => f !== page.mainFrame()),
    violations: () => page.evaluate(() => window.__violations),
    async close() { await bridge.close().catch(() => {}); await page.close(); if (ownBrowser) await browser.close(); },
  };
}

export async function launch() { return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] }); }

function withTimeout(p, ms, msg) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(msg)), ms); })]).finally(() => clearTimeout(t));
}
