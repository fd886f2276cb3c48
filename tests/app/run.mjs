// Browser scenarios for backups.html against a running zerobyte-mcp (MCP_URL, MCP_TOKEN).
// node run.mjs <scenario> [...]   scenarios: board drilldown delete readonly theme narrow screenshots
// Prints one line per check; exits 1 on the first failed check. Used by tests/app/test_browser.py.
import assert from "node:assert/strict";
import { connectClient, data, launch, openApp, shown } from "./host.mjs";

const T = 15000;
const ok = (msg) => console.log("ok   " + msg);

async function textOf(loc) { return ((await loc.textContent({ timeout: T })) ?? "").trim(); }

async function boardMatchesApi(client, o) {
  const { app, data: d } = o;
  await app.getByTestId("verdict").waitFor({ timeout: T });
  assert.equal(await textOf(app.getByTestId("verdict")), d.verdict, "verdict text");
  ok(`verdict on screen = show_backups verdict (${d.verdict})`);
  const repos = shown(await client.callTool({ name: "list_repositories", arguments: {} })).repositories; // sizes as text
  const cards = app.getByTestId("job-card");
  assert.equal(await cards.count(), d.jobs.length, "one card per job");
  assert.ok(d.jobs.length > 0, "the board has jobs");
  for (const j of d.jobs) {
    const card = app.locator(`[data-testid="job-card"][data-job-id="${j.id}"]`);
    assert.equal(await card.count(), 1, `card for job ${j.name}`);
    assert.equal(await card.getByTestId("job-state").getAttribute("data-state"), j.state, `${j.name} state`);
    assert.equal(await textOf(card.getByTestId("job-snapshots")), String(j.snapshots_total ?? (j.snapshots ?? []).length), `${j.name} snapshot count`);
    const repo = repos.find((r) => r.id === j.repository?.id);
    assert.ok(repo, `${j.name}: its repository ${j.repository?.id} is in list_repositories`);
    assert.equal(await textOf(card.getByTestId("job-size")), repo.stored_bytes_text ?? "unknown", `${j.name} repository size`);
    assert.equal(await card.locator('svg[data-testid="sparkline"]').count(), 1, `${j.name} sparkline`);
    assert.ok((await textOf(card.getByTestId("coverage"))).includes(j.coverage?.verdict ?? "coverage unknown"), `${j.name} coverage`);
    assert.ok((await textOf(card.getByTestId("job-last-run"))).length > 1, `${j.name} last run`);
  }
  ok(`${d.jobs.length} job cards: state, snapshot count, repository size (= list_repositories), sparkline, coverage`);
  assert.equal(await app.getByTestId("repo-row").count(), repos.length, "one row per repository");
  for (const r of repos) {
    const row = app.locator(`[data-testid="repo-row"][data-repo-id="${r.id}"]`);
    assert.equal(await textOf(row.getByTestId("repo-size")), r.stored_bytes_text ?? "size unknown", `repository ${r.name} size`);
  }
  ok(`${repos.length} repository rows, sizes = list_repositories`);
  assert.equal(await app.getByTestId("volume-row").count(), (d.volumes ?? []).length, "volume rows");
  ok(`${(d.volumes ?? []).length} volume rows`);
  // untrusted text: tags stripped, shown marked
  const boxes = app.getByTestId("untrusted");
  for (let i = 0; i < (await boxes.count()); i++) {
    const t = await boxes.nth(i).textContent();
    assert.ok(!t.includes("<untrusted>") && !t.includes("</untrusted>"), "untrusted tags stripped");
    assert.ok((await boxes.nth(i).getAttribute("data-label")).toLowerCase().includes("from zerobyte"), "untrusted text is labelled");
  }
  ok(`${await boxes.count()} untrusted texts shown without tags, labelled "from Zerobyte"`);
}

async function hygiene(o) {
  assert.deepEqual(await o.violations(), [], "no CSP violations (no network, no outside resources)");
  const outside = o.log.requests.filter((u) => !u.startsWith("about:") && !u.startsWith("data:"));
  assert.deepEqual(outside, [], "the app made no network request");
  assert.deepEqual(o.log.console, [], "no console errors or warnings");
  assert.ok(o.log.initialized, "ui/notifications/initialized received");
  assert.ok(o.log.sizes.length > 0 && o.log.sizes.at(-1) > 200, "ui/notifications/size-changed with the content height");
  ok(`protocol: initialized, size-changed (${o.log.sizes.at(-1)} px), no CSP violation, no request, no console error`);
}

const scenarios = {
  async board(client, browser) {
    const o = await openApp({ client, browser });
    await boardMatchesApi(client, o);
    await hygiene(o);
    const mime = o.log.resource.mimeType;
    assert.equal(mime, "text/html;profile=mcp-app", "resource MIME type");
    assert.ok(o.log.resource.text.length < 60 * 1024, "backups.html under 60 KB");
    ok(`resource ${mime}, ${o.log.resource.text.length} bytes`);
    await o.close();
  },

  async drilldown(client, browser) {
    const o = await openApp({ client, browser });
    const { app, data: d } = o;
    const job = d.jobs.find((j) => (j.snapshots_total ?? 0) >= 3);
    assert.ok(job, "a job with 3+ snapshots");
    await app.locator(`[data-testid="job-card"][data-job-id="${job.id}"] [data-testid="open-timeline"]`).click();
    await app.getByTestId("timeline").waitFor({ timeout: T });
    const api = data(await client.callTool({ name: "list_snapshots", arguments: { backup_job_id: job.id, limit: 30 } }));
    const points = app.getByTestId("snapshot-point");
    await points.first().waitFor({ timeout: T });
    const ids = await points.evaluateAll((els) => els.map((e) => e.getAttribute("data-snapshot-id")));
    assert.deepEqual(ids, api.snapshots.map((s) => s.id), "timeline = list_snapshots, newest first");
    ok(`timeline of ${job.name}: ${ids.length} snapshots = list_snapshots`);
    // keyboard: focus the second snapshot and press Enter
    const second = points.nth(1);
    await second.focus();
    await o.page.keyboard.press("Enter");
    await app.locator(`[data-testid="snapshot-point"][data-snapshot-id="${ids[1]}"][aria-selected="true"]`).waitFor({ timeout: T });
    await app.getByTestId("file-browser").getByTestId("file-row").first().waitFor({ timeout: T });
    assert.equal(await o.frame().evaluate(() => document.activeElement?.getAttribute("data-snapshot-id")), ids[1], "focus stays on it");
    ok("Enter on a focused snapshot selects it; focus stays on it after the page redraws");
    const browserPanel = app.getByTestId("file-browser");
    await browserPanel.getByTestId("file-row").first().waitFor({ timeout: T });
    const repoId = api.repository;
    const top = data(await client.callTool({ name: "list_snapshot_files", arguments: { repository_id: repoId, snapshot_id: ids[1], limit: 200 } }));
    const rows = await app.getByTestId("file-row").evaluateAll((els) => els.map((e) => [e.getAttribute("data-path"), e.getAttribute("data-type")]));
    const join = (dir, n) => (dir === "/" ? "" : dir.replace(/\/$/, "")) + "/" + n;
    assert.deepEqual(rows, top.entries.map((e) => [join(top.path, e.name), e.type === "dir" ? "dir" : "file"]), "file rows = list_snapshot_files");
    ok(`browser at ${top.path}: ${rows.length} rows = list_snapshot_files`);
    // open a folder, then a file in it (depth-first until a file shows up)
    let path = top.path, entries = top.entries;
    for (let depth = 0; depth < 6 && !entries.some((e) => e.type !== "dir"); depth++) {
      const dir = entries.find((e) => e.type === "dir");
      assert.ok(dir, "a folder to open");
      path = join(path, dir.name);
      await app.locator(`[data-testid="file-row"][data-path="${path}"]`).click();
      await app.locator(`[data-testid="breadcrumb"] [aria-current][data-path="${path}"]`).waitFor({ timeout: T });
      entries = data(await client.callTool({ name: "list_snapshot_files", arguments: { repository_id: repoId, snapshot_id: ids[1], path, limit: 200 } })).entries;
      await app.getByTestId("file-row").first().waitFor({ timeout: T });
      assert.equal(await app.getByTestId("file-row").count(), entries.length, `rows in ${path}`);
    }
    ok(`folders open through the breadcrumb down to ${path}`);
    const file = entries.find((e) => e.type !== "dir");
    const filePath = join(path, file.name);
    await app.locator(`[data-testid="file-row"][data-path="${filePath}"]`).click();
    await app.getByTestId("version-row").first().waitFor({ timeout: T });
    const versions = data(await client.callTool({ name: "find_file", arguments: { pattern: filePath, repository_id: repoId } })).versions;
    assert.equal(await app.getByTestId("version-row").count(), versions.filter((v) => !v.path || v.path === filePath).length, "version rows = find_file");
    assert.ok(o.log.calls.some((c) => c.name === "find_file" && c.arguments.pattern === filePath), "find_file called with the absolute path");
    ok(`${filePath}: ${versions.length} versions = find_file`);
    // breadcrumb back to the top
    await app.locator(`[data-testid="breadcrumb"] button[data-path="${top.path}"]`).click();
    await app.locator(`[data-testid="breadcrumb"] [aria-current][data-path="${top.path}"]`).waitFor({ timeout: T });
    ok("breadcrumb goes back up");
    // compare newest and oldest shown
    await app.locator(`[data-testid="snapshot-point"][data-snapshot-id="${ids[0]}"] [data-testid="compare-check"]`).check();
    await app.locator(`[data-testid="snapshot-point"][data-snapshot-id="${ids.at(-1)}"] [data-testid="compare-check"]`).check();
    await app.getByTestId("compare-button").click();
    const cv = app.getByTestId("compare-view");
    await cv.getByTestId("compare-added").waitFor({ timeout: T });
    const cmp = data(await client.callTool({ name: "compare_snapshots", arguments: { repository_id: repoId, snapshot_id: ids[0], base_snapshot_id: ids.at(-1), limit: 50 } }));
    for (const k of ["added", "removed", "modified"]) assert.equal(await textOf(cv.getByTestId("compare-" + k)), String(cmp[k] ?? 0), `compare ${k}`);
    assert.equal(await cv.getByTestId("change-row").count(), (cmp.changes ?? []).length, "first page of changes");
    ok(`compare ${ids[0]}..${ids.at(-1)}: +${cmp.added} -${cmp.removed} ~${cmp.modified}, ${(cmp.changes ?? []).length} changes listed = compare_snapshots`);
    await hygiene(o);
    await o.close();
  },

  async delete(client, browser) {
    const o = await openApp({ client, browser });
    const { app, data: d } = o;
    assert.ok(d.actions.includes("delete_snapshots"), "delete_snapshots offered at access full");
    const job = d.jobs.find((j) => (j.snapshots_total ?? 0) >= 3);
    await app.locator(`[data-testid="job-card"][data-job-id="${job.id}"] [data-testid="open-timeline"]`).click();
    const points = app.getByTestId("snapshot-point");
    await points.nth(2).waitFor({ timeout: T });
    const victim = await points.nth(2).getAttribute("data-snapshot-id");
    await points.nth(2).click();
    await app.locator(`[data-testid="snapshot-point"][data-snapshot-id="${victim}"][aria-selected="true"]`).waitFor({ timeout: T });
    const repoId = data(await client.callTool({ name: "list_snapshots", arguments: { backup_job_id: job.id, limit: 1 } })).repository;
    const exists = async () => data(await client.callTool({ name: "get_snapshot", arguments: { repository_id: repoId, snapshot_id: victim } })).id === victim;
    const listed = async () => data(await client.callTool({ name: "list_snapshots", arguments: { repository_id: repoId, limit: 100 } })).snapshots.some((s) => s.id === victim);
    assert.ok(await listed(), "the snapshot exists before");
    await app.getByTestId("action-delete-snapshot").click();
    const panel = app.getByTestId("confirm-panel");
    await panel.waitFor({ timeout: T });
    const calls = o.log.calls.filter((c) => c.name === "delete_snapshots");
    assert.equal(calls.length, 1, "one delete_snapshots call (the preview)");
    assert.equal(calls[0].arguments.confirm_token, undefined, "the preview call has no confirm_token");
    const preview = (await textOf(panel)).replace(/\s+/g, " ");
    assert.ok(preview.includes(victim), "the panel names the snapshot");
    assert.ok(/Delete 1 snapshot/.test(preview), `the panel shows the server's preview: ${preview}`);
    assert.ok(await listed(), "nothing deleted while the confirm panel shows");
    ok(`confirm panel shows the preview (${preview.slice(0, 70)}...); ${victim} still exists`);
    await app.getByTestId("cancel-button").click();
    await panel.waitFor({ state: "detached", timeout: T });
    assert.ok(await listed(), "nothing deleted after cancel");
    assert.equal(o.log.calls.filter((c) => c.name === "delete_snapshots").length, 1, "cancel sends nothing");
    ok("cancel: panel gone, no second call, snapshot still exists");
    await app.getByTestId("action-delete-snapshot").click();
    await panel.waitFor({ timeout: T });
    await app.getByTestId("confirm-button").click();
    await panel.waitFor({ state: "detached", timeout: T });
    await app.getByTestId("notice").waitFor({ timeout: T });
    const dcalls = o.log.calls.filter((c) => c.name === "delete_snapshots");
    assert.equal(dcalls.length, 3, "preview, preview, confirm");
    assert.ok(dcalls[2].arguments.confirm_token, "the confirm call carries the token");
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) { gone = !(await listed()); if (!gone) await new Promise((r) => setTimeout(r, 200)); }
    assert.ok(gone, "after Confirm the snapshot is gone");
    void exists;
    ok(`confirm: second call with confirm_token; ${victim} deleted on the server`);
    await app.getByTestId("back").click();
    const card = app.locator(`[data-testid="job-card"][data-job-id="${job.id}"]`);
    await app.locator(`[data-testid="job-card"][data-job-id="${job.id}"] [data-testid="job-snapshots"]`, { hasText: new RegExp(`^${job.snapshots_total - 1}$`) }).waitFor({ timeout: T });
    assert.ok(o.log.calls.some((c) => c.name === "show_backups"), "the board is fetched again after a change");
    ok(`back on the board: ${job.name} now shows ${await textOf(card.getByTestId("job-snapshots"))} snapshots (was ${job.snapshots_total})`);
    await hygiene(o);
    await o.close();
  },

  async actions(client, browser) {
    const o = await openApp({ client, browser });
    const { app, data: d } = o;
    const job = d.jobs.find((j) => j.enabled !== false && (j.snapshots_total ?? 0) >= 1);
    const card = app.locator(`[data-testid="job-card"][data-job-id="${job.id}"]`);
    await card.getByTestId("action-run-backup").click();
    await card.getByTestId("notice").waitFor({ timeout: T });
    const run = o.log.calls.find((c) => c.name === "run_backup");
    assert.deepEqual(run?.arguments, { job_id: job.id, wait: false }, "run_backup called for that job");
    ok(`run_backup ${job.name}: called through the host, notice shown (${(await textOf(card.getByTestId("notice"))).slice(0, 60)})`);
    assert.ok((d.restore_roots ?? []).length > 0, "the board lists restore roots");
    await card.getByTestId("open-timeline").click();
    await app.getByTestId("file-browser").getByTestId("file-row").first().waitFor({ timeout: T });
    await app.getByTestId("action-restore").click();
    const target = app.getByTestId("restore-target");
    await target.waitFor({ timeout: T });
    const value = await target.inputValue();
    assert.ok(value.startsWith(d.restore_roots[0] + "/"), `target ${value} under ${d.restore_roots[0]}`);
    await app.getByTestId("restore-button").click();
    await app.locator('[data-testid="notice"], [data-testid="error"]').first().waitFor({ timeout: T });
    const restore = o.log.calls.find((c) => c.name === "restore");
    assert.equal(restore?.arguments.target_path, value, "restore called with the target shown");
    assert.equal(await app.getByTestId("error").count(), 0, "restore answered without an error: " + (await app.locator('[data-testid="error"]').allTextContents()));
    ok(`restore ${restore.arguments.paths[0]} -> ${value}: called through the host, notice shown`);
    await hygiene(o);
    await o.close();
  },

  async snapshots(client, browser) {
    const jobs = data(await client.callTool({ name: "list_backup_jobs", arguments: {} })).jobs;
    const api0 = await Promise.all(jobs.map(async (j) => [j, data(await client.callTool({ name: "list_snapshots", arguments: { backup_job_id: j.id, limit: 30 } }))]));
    const [job, api] = api0.find(([, a]) => a.snapshots.length >= 2);
    const pick = api.snapshots[1].id;
    const o = await openApp({ client, browser, tool: "show_snapshots", args: { backup_job_id: job.id, snapshot_id: pick } });
    const { app, data: d } = o;
    assert.equal(d.view, "snapshots");
    await app.getByTestId("timeline").waitFor({ timeout: T });
    const ids = await app.getByTestId("snapshot-point").evaluateAll((els) => els.map((e) => e.getAttribute("data-snapshot-id")));
    assert.deepEqual(ids, api.snapshots.map((s) => s.id), "timeline = list_snapshots");
    await app.locator(`[data-testid="snapshot-point"][data-snapshot-id="${pick}"][aria-selected="true"]`).waitFor({ timeout: T });
    await app.getByTestId("file-browser").getByTestId("file-row").first().waitFor({ timeout: T });
    assert.equal(await app.getByTestId("back").count(), 0, "no way back to a board that was never shown");
    ok(`show_snapshots ${job.name} opened at ${pick}: ${ids.length} snapshots, its files listed`);
    await hygiene(o);
    await o.close();
  },

  async safety(client, browser) {
    // Hostile text in a tool result (names and messages are data from backups): shown as text, never as markup.
    const o = await openApp({ client, browser });
    const { app } = o;
    await app.getByTestId("verdict").waitFor({ timeout: T });
    const evil = '<img src=x onerror="window.__pwned=1">';
    await o.bridge.sendToolResult({
      content: [{ type: "text", text: "crafted" }],
      structuredContent: { view: "board", verdict: "warning", access: "full", actions: [],
        jobs: [{ id: "j1", name: evil, state: "warning", snapshots_total: 1, repository: { id: "r1" },
          message: '<untrusted note="n">evil <b>bold</b> <script>window.__pwned=2</script></untrusted>' }],
        repositories: [{ id: "r1", name: "<script>window.__pwned=3</script>", stored_bytes_text: "1 B", snapshots_count: 1 }] },
    });
    await app.locator('[data-testid="job-card"][data-job-id="j1"]').waitFor({ timeout: T });
    const frame = o.frame();
    const found = await frame.evaluate(() => ({
      markup: document.querySelectorAll("#app img, #app script, #app [onerror]").length,
      pwned: window.__pwned ?? null,
      name: document.querySelector('[data-testid="job-card"] h3').textContent,
      box: document.querySelector('[data-testid="job-card"] [data-testid="untrusted"]').textContent,
    }));
    assert.equal(found.markup, 0, "no element made from data");
    assert.equal(found.pwned, null, "no script from data ran");
    assert.equal(found.name, evil, "the name is shown as its text");
    assert.equal(found.box, "evil <b>bold</b> <script>window.__pwned=2</script>", "untrusted text: tags stripped, the rest as text");
    assert.equal(await app.locator('[data-testid^="action-"]').count(), 0, "actions: [] shows no action");
    ok("hostile names and messages render as text (no element, no script); <untrusted note=...> stripped");
    await o.bridge.sendToolResult({ isError: true, content: [{ type: "text", text: "Zerobyte said: <untrusted>disk full</untrusted>" }] });
    await app.getByTestId("error").waitFor({ timeout: T });
    assert.equal(await textOf(app.getByTestId("error")), "Zerobyte said: disk full", "tool error text shown");
    ok("a tool error shows its text in the error box");
    assert.deepEqual(await o.violations(), [], "no CSP violation");
    await o.close();
  },

  async readonly(client, browser) {
    const o = await openApp({ client, browser });
    const { app, data: d } = o;
    assert.equal(d.access, "read-only");
    assert.deepEqual(d.actions ?? [], [], "no actions at read-only");
    await boardMatchesApi(client, o);
    assert.equal(await app.locator('[data-testid^="action-"]').count(), 0, "no action button on the board");
    const job = d.jobs.find((j) => (j.snapshots_total ?? 0) >= 1);
    await app.locator(`[data-testid="job-card"][data-job-id="${job.id}"] [data-testid="open-timeline"]`).click();
    await app.getByTestId("file-browser").getByTestId("file-row").first().waitFor({ timeout: T });
    assert.equal(await app.locator('[data-testid^="action-"]').count(), 0, "no action button in the snapshot view");
    assert.equal(await app.locator("button", { hasText: /delete|restore|run backup/i }).count(), 0, "no write button by its label");
    ok("read-only: no action buttons on the board or in the snapshot view");
    await hygiene(o);
    await o.close();
  },

  async theme(client, browser) {
    const o = await openApp({ client, browser, theme: "light" });
    const { app } = o;
    await app.getByTestId("verdict").waitFor({ timeout: T });
    const frame = o.frame();
    const bg = () => frame.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    assert.equal(await frame.evaluate(() => document.documentElement.dataset.theme), "light");
    o.bridge.setHostContext({ ...o.bridge.getHostContext?.(), theme: "dark" });
    await frame.waitForFunction(() => document.documentElement.dataset.theme === "dark", null, { timeout: T });
    const dark = await bg();
    assert.notEqual(light, dark, "background changes with the theme");
    o.bridge.setHostContext({ theme: "dark", styles: { variables: { "--color-background-primary": "rgb(1, 2, 3)" } } });
    await frame.waitForFunction(() => getComputedStyle(document.body).backgroundColor === "rgb(1, 2, 3)", null, { timeout: T });
    ok(`host-context-changed: theme light (${light}) -> dark (${dark}); host CSS variable applied`);
    // keyboard: Tab reaches a button and focus is visible
    await o.page.locator("#app").focus();
    let seen = false;
    for (let i = 0; i < 12 && !seen; i++) {
      await o.page.keyboard.press("Tab");
      seen = await frame.evaluate(() => { const a = document.activeElement; return !!a && a.tagName === "BUTTON" && getComputedStyle(a).outlineStyle !== "none"; });
    }
    assert.ok(seen, "Tab reaches a button with a visible focus outline");
    ok("Tab focuses buttons with a visible outline");
    await o.close();
  },

  async narrow(client, browser) {
    const o = await openApp({ client, browser, width: 360 });
    await o.app.getByTestId("verdict").waitFor({ timeout: T });
    const frame = o.frame();
    const [sw, cw] = await frame.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `no horizontal scroll at 360 px (scrollWidth ${sw} > ${cw})`);
    ok(`360 px wide: no horizontal overflow (${sw} <= ${cw})`);
    await o.close();
  },
};

async function main() {
  const names = process.argv.slice(2);
  if (!names.length) throw new Error("usage: node run.mjs <" + Object.keys(scenarios).join("|") + ">...");
  const client = await connectClient();
  const browser = await launch();
  try {
    for (const n of names) {
      if (!scenarios[n]) throw new Error("unknown scenario " + n);
      console.log(`== ${n}`);
      await scenarios[n](client, browser);
    }
  } finally {
    await browser.close();
    await client.close();
  }
}

main().then(() => process.exit(0), (e) => { console.log("FAIL " + (e.stack || e.message)); process.exit(1); });
