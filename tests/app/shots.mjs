// Screenshots of the board (light and dark) for docs/: node shots.mjs <out-dir> [width]
import { connectClient, launch, openApp } from "./host.mjs";
const out = process.argv[2] ?? "../../docs";
const width = Number(process.argv[3] ?? 1000);
const client = await connectClient();
const browser = await launch();
try {
  for (const theme of ["light", "dark"]) {
    const o = await openApp({ client, browser, theme, width, height: 800 });
    await o.app.getByTestId("verdict").waitFor({ timeout: 15000 });
    await o.page.waitForFunction(() => document.getElementById("app").offsetHeight > 300);
    await new Promise((r) => setTimeout(r, 300)); // let size-changed settle the iframe height
    const h = await o.page.evaluate(() => document.getElementById("app").offsetHeight);
    await o.page.setViewportSize({ width, height: h });
    await new Promise((r) => setTimeout(r, 300));
    await o.page.screenshot({ path: `${out}/app-${theme}.png`, clip: { x: 0, y: 0, width, height: h } });
    console.log(`${out}/app-${theme}.png`);
    await o.close();
  }
} finally { await browser.close(); await client.close(); }
