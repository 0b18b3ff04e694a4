// Browser tests of the tutorial page (issue 8): the real gdlab binary serves web/ on a free port of
// 127.0.0.1, Playwright (playwright-core from web/package.json) drives Debian's Chromium, and every
// check compares what the page drew with JSON the test fetched from the same server itself.
//
//   node tests/web/page.test.mjs --server build/x/src/gdlab --web-root web --artifacts DIR
//        [--chromium /usr/bin/chromium]
//
// Behaviour only: how fast the page draws is measured by bench/page_load.mjs, not asserted here.
//
// Exit 77 (CTest's SKIP_RETURN_CODE) with a line starting "SKIP:" when Chromium or playwright-core
// is missing or Chromium cannot start; any other trouble is a failure.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';

const SKIP = 77;
const { values: opt } = parseArgs({
    options: {
        server: { type: 'string' },
        'web-root': { type: 'string' },
        artifacts: { type: 'string' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
    },
});
if (!opt.server || !opt['web-root'] || !opt.artifacts) {
    console.error('usage: page.test.mjs --server GDLAB --web-root DIR --artifacts DIR [--chromium PATH]');
    process.exit(2);
}
const webRoot = resolve(opt['web-root']);
const artifacts = resolve(opt.artifacts);
mkdirSync(artifacts, { recursive: true });

function skip(why)
{
    console.log(`SKIP: ${why}`);
    process.exit(SKIP);
}

// --- the browser and the server ------------------------------------------------------------------

if (!existsSync(opt.chromium)) skip(`no Chromium at ${opt.chromium} (Debian package "chromium", installed by scripts/setup)`);
let chromium;
try {
    ({ chromium } = createRequire(join(webRoot, 'package.json'))('playwright-core'));
} catch (err) {
    skip(`playwright-core is not installed in ${webRoot}/node_modules (run scripts/setup): ${err.message}`);
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let browser;
try {
    // launch() gives the browser a fresh, temporary --user-data-dir of its own and removes it on close.
    browser = await chromium.launch({ executablePath: opt.chromium, args: CHROMIUM_ARGS, timeout: 30000 });
} catch (err) {
    skip(`Chromium at ${opt.chromium} does not start: ${err.message.split('\n')[0]}`);
}

function freePort()
{
    return new Promise((ok, fail) => {
        const s = createServer();
        s.once('error', fail);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => ok(port));
        });
    });
}

async function startServer()
{
    for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freePort();
        const log = [];
        const child = spawn(opt.server, ['--bind', '127.0.0.1', '--port', String(port), '--web-root', webRoot],
            { stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr.on('data', (d) => log.push(d.toString()));
        const exited = new Promise((ok) => child.once('exit', ok));
        const base = `http://127.0.0.1:${port}`;
        for (let k = 0; k < 100; k++) {
            if (child.exitCode !== null) break;
            try {
                const res = await fetch(`${base}/health`);
                if (res.ok) return { child, base, exited, log };
            } catch { /* not listening yet */ }
            await new Promise((ok) => setTimeout(ok, 100));
        }
        child.kill('SIGTERM');
        await exited;
        console.error(`gdlab did not come up on port ${port}:\n${log.join('')}`);
    }
    throw new Error('gdlab did not start');
}

const server = await startServer();
const BASE = server.base;

// A browser's own first start (profile, fonts, network service, its built-in pages) is no part of
// the page's cold load: let it settle on a plain text file of the server first. Every page below
// still opens in a fresh context with an empty cache.
{
    const warm = await browser.newContext();
    const page = await warm.newPage();
    await page.goto(`${BASE}/static/vendor/LICENSES.txt`);
    await page.waitForTimeout(1500);
    await warm.close();
}

after(async () => {
    await browser.close();
    server.child.kill('SIGTERM');
    const code = await server.exited;
    assert.equal(code, 0, `gdlab exits 0 on SIGTERM (log:\n${server.log.join('')})`);
});

// --- helpers --------------------------------------------------------------------------------------

async function api(path)
{
    const res = await fetch(`${BASE}${path}`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200, `${path} answers 200`);
    return res.json();
}

// A page in a context of its own (empty cache), recording everything that goes wrong.
async function openPage(hash = '', viewport = { width: 1280, height: 900 })
{
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const problems = [];
    const requests = [];
    page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    page.on('request', (r) => requests.push(r.url()));
    const t0 = Date.now();
    await page.goto(`${BASE}/${hash}`);
    await ready(page);
    const elapsed = Date.now() - t0;
    return { context, page, problems, requests, elapsed };
}

// The page marks <html data-state> "ready" once every section is drawn for its current state.
async function ready(page, check = '', timeout = 15000)
{
    await page.waitForFunction(
        `document.documentElement.dataset.state !== 'loading' && window.gdlab && (${check || 'true'})`,
        null, { timeout });
    const state = await page.evaluate(() => document.documentElement.dataset.state);
    assert.equal(state, 'ready', `page state is ready (status: ${await page.textContent('#status')})`);
}

const num = (s) => (s === null ? NaN : Number(s));
const attrs = (page, sel, name) => page.$$eval(sel, (els, n) => els.map((e) => e.getAttribute(n)), name);
const attr = async (page, sel, name) => page.getAttribute(sel, name);
const lossMax = (surface) => Math.max(...surface.loss.flat());

// The page skips rendering sections out of view (content-visibility: auto) until they scroll near;
// a screenshot of a whole section, or of the whole page, wants them all rendered now.
async function renderAll(page)
{
    await page.addStyleTag({ content: 'section { content-visibility: visible !important; }' });
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
}

async function shot(page, name, file = `section-${name}.png`)
{
    await renderAll(page);
    await page.locator(`#${name}`).screenshot({ path: join(artifacts, file) });
}

// --- the tests ------------------------------------------------------------------------------------

const D = '?seed=42&n=100&noise=0.1';

// /lr-finder is being built on another branch. Until this server serves it, section 8's range-test
// figure must say so (and the page must not even ask); once it does, set this to true and the test
// compares the drawn range test with the endpoint's answer.
const LR_FINDER_SERVED = false;
let ref;
before(async () => {
    const [dataset, surface, cross, step, lrs, scale, badSurface, scaledSurface] = await Promise.all([
        api(`/dataset${D}`), api(`/surface${D}`), api(`/cross-section${D}`),
        api(`/train${D}&lr=0.1&epochs=1&history=2`), api(`/train${D}&lr=0.2,0.8,1.1&epochs=1000&history=1001`),
        api(`/scale${D}&x_multiplier=10&scaler=standard`), api(`/surface${D}&x_multiplier=10`),
        api(`/surface${D}&x_multiplier=10&scaler=standard`),
    ]);
    ref = { dataset, surface, cross, step, lrs, scale, badSurface, scaledSurface };
});

// The cold load's behaviour: every figure drawn, no console errors, no failed or outside requests,
// few requests. Its time is printed for the record; bench/page_load.mjs measures it.
test('cold load on the book defaults: no console errors, no failed or outside requests', async () => {
    const { context, page, problems, requests, elapsed } = await openPage();
    await page.waitForFunction(() => window.gdlab.readyMs !== null);
    // Counted before the screenshots below render the whole page, which brings section 8 into reach.
    const coldRequests = [...requests];
    const inPage = await page.evaluate(() => window.gdlab.readyMs);
    const bytes = await page.evaluate(() => performance.getEntriesByType('resource')
        .reduce((n, e) => n + e.encodedBodySize, performance.getEntriesByType('navigation')[0].encodedBodySize));
    console.log(`# cold load: ${inPage.toFixed(0)} ms from navigation start to the first frame with every ` +
        `figure (${elapsed} ms for the test, opening the tab included), ${coldRequests.length} requests, ${(bytes / 1024).toFixed(0)} KiB`);
    for (const s of ['s1', 's2', 's3', 's4', 's5', 's6', 's7']) await shot(page, s);
    await page.screenshot({ path: join(artifacts, 'page-desktop.png'), fullPage: true });
    assert.deepEqual(problems, []);
    const outside = requests.filter((u) => !u.startsWith(`${BASE}/`) && !u.startsWith('data:'));
    assert.deepEqual(outside, [], 'no request leaves the server');
    // The page, 6 static files (state.js, app.js, plot.js, style.css, 2 d3 files) and 10 API answers;
    // section 8, far below the first screen, asks for nothing until the reader nears it.
    assert.ok(coldRequests.length <= 17, `few requests (${coldRequests.length})`);
    assert.deepEqual(coldRequests.filter((u) => /\/(stability|lr-finder)\?|optimizer=|batch_size=/.test(u)), [],
        'section 8 waits until it is scrolled to');
    await context.close();
});

test('static files carry their MIME types', async () => {
    for (const [path, type] of [['/static/app.js', 'text/javascript'], ['/static/plot.js', 'text/javascript'],
        ['/static/state.js', 'text/javascript'],
        ['/static/style.css', 'text/css'], ['/static/vendor/d3-contour.min.js', 'text/javascript'],
        ['/static/index.html', 'text/html']]) {
        const res = await fetch(`${BASE}${path}`);
        assert.equal(res.status, 200, path);
        assert.ok(res.headers.get('content-type').startsWith(type), `${path}: ${res.headers.get('content-type')}`);
    }
    const res = await fetch(`${BASE}/`, { headers: { Accept: 'text/html' } });
    assert.ok(res.headers.get('content-type').startsWith('text/html'), 'a browser gets the page at /');
    assert.match(await res.text(), /<script type="module" async src="\/static\/app.js">/);
    const json = await fetch(`${BASE}/`, { headers: { Accept: 'application/json' } });
    assert.ok(json.headers.get('content-type').startsWith('application/json'), 'a JSON client still gets the index at /');
    assert.ok(JSON.stringify(await json.json()).includes('/surface'), 'the index lists the endpoints');
});

test('vendored d3 files are the ones package-lock.json pins', () => {
    const lock = JSON.parse(readFileSync(join(webRoot, 'package-lock.json'), 'utf8'));
    for (const [pkg, file] of [['d3-array', 'd3-array.min.js'], ['d3-contour', 'd3-contour.min.js']]) {
        const vendored = readFileSync(join(webRoot, 'vendor', file), 'utf8');
        const version = lock.packages[`node_modules/${pkg}`].version;
        assert.ok(vendored.startsWith(`// https://d3js.org/${pkg}/ v${version} `), `${file} is ${pkg} v${version}`);
        const installed = join(webRoot, 'node_modules', pkg, 'dist', file);
        if (existsSync(installed)) assert.equal(vendored, readFileSync(installed, 'utf8'), `${file} = npm's copy`);
    }
});

test('every figure is drawn with the API\'s numbers', async () => {
    const { context, page } = await openPage();
    const { dataset, surface, cross, step, lrs, scale, badSurface, scaledSurface } = ref;

    // 1. The data: every point, at a position linear in its value.
    for (const split of ['train', 'val']) {
        const sel = `[data-plot="scatter-${split}"] circle`;
        const xs = (await attrs(page, sel, 'data-x')).map(num), ys = (await attrs(page, sel, 'data-y')).map(num);
        assert.deepEqual(xs, dataset[split].x, `${split} x drawn`);
        assert.deepEqual(ys, dataset[split].y, `${split} y drawn`);
        const cx = (await attrs(page, sel, 'cx')).map(num);
        const k = (cx[1] - cx[0]) / (xs[1] - xs[0]);
        cx.forEach((c, i) => assert.ok(Math.abs(c - (cx[0] + k * (xs[i] - xs[0]))) < 0.02, `${split} point ${i} placed by x`));
    }
    assert.equal(await page.textContent('[data-bind="n_train"]'), String(dataset.train.x.length));

    // 2. The start: the tutorial's b = 0.49…, w = −0.13…, loss 2.74.
    const h = step.runs[0].history;
    assert.equal(num(await attr(page, '#s2 [data-bind="b0"]', 'data-value')), h.b[0]);
    assert.equal(num(await attr(page, '#s2 [data-bind="w0"]', 'data-value')), h.w[0]);
    assert.equal(num(await attr(page, '#s2 [data-bind="loss0"]', 'data-value')), h.train_loss[0]);
    assert.equal(await page.textContent('#s2 [data-bind="loss0"]'), '2.74');
    assert.equal(await page.textContent('#s2 [data-bind="b0"]'), '0.4967');
    assert.equal(await page.textContent('#s2 [data-bind="w0"]'), '−0.1383');

    // 3. The surface: its range, its minimum, the start.
    const svg = '[data-plot="surface"] svg';
    assert.equal(num(await attr(page, svg, 'data-loss-max')), lossMax(surface));
    assert.equal(num(await attr(page, svg, 'data-loss-min')), Math.min(...surface.loss.flat()));
    assert.equal(num(await attr(page, svg, 'data-b-min')), surface.b[0]);
    assert.equal(num(await attr(page, svg, 'data-w-max')), surface.w[surface.w.length - 1]);
    assert.equal(num(await attr(page, `${svg} .minimum`, 'data-b')), surface.grid_min.b);
    assert.equal(num(await attr(page, `${svg} .minimum`, 'data-w')), surface.grid_min.w);
    assert.equal(num(await attr(page, `${svg} circle.start`, 'data-b')), h.b[0]);
    // The bands of a surface are drawn once in a shared <defs> and shown in each panel with <use>.
    const href = await attr(page, `${svg} use.bands-use`, 'href');
    const bands = (await attrs(page, `${href} path.band`, 'data-level')).map(num);
    assert.ok(bands.length >= 8, `contour bands drawn (${bands.length})`);
    assert.deepEqual(bands, (await attr(page, svg, 'data-levels')).split(',').map(num).slice(0, bands.length));

    // 4. Cross-sections: named by fixed and varying parameter; gradients as the tutorial has them.
    for (const [plot, fixed] of [['cs-w', 'b'], ['cs-b', 'w']]) {
        const s = cross.sections.find((x) => x.fixed === fixed);
        const sel = `[data-plot="${plot}"] svg`;
        assert.equal(await attr(page, sel, 'data-fixed'), fixed);
        assert.equal(await attr(page, sel, 'data-varying'), s.varying);
        assert.equal(num(await attr(page, sel, 'data-fixed-value')), s.fixed_value);
        assert.equal(num(await attr(page, `${sel} .tangent`, 'data-gradient')), s.gradient);
        assert.equal(num(await attr(page, `${sel} .geo`, 'data-delta-loss')), s.geometric.delta_loss);
        assert.equal(num(await attr(page, `${sel} .geo`, 'data-gradient')), s.geometric.gradient);
    }
    const cells = await page.$$eval('#grad-table td', (tds) => tds.map((t) => t.textContent));
    assert.deepEqual(cells, ['0.12', '−0.21', '−1.79', '−1.83', '0.12', '−0.35', '−2.90', '−3.04'], 'the tutorial\'s gradients');

    // 5. One step at 0.1 lands on b = 0.80, w = 0.045; the critical rate is marked on the slider.
    const stepTo = (await attrs(page, '#step-eq strong', 'data-value')).map(num);
    assert.deepEqual(stepTo, [h.b[1], h.w[1]]);
    assert.equal(num(await attr(page, '#lr-crit-mark', 'data-lr-critical')), step.analysis.lr_critical);
    assert.match(await page.textContent('#lr-crit-mark'), /0\.8055/);
    const panels = await page.$$eval('.lr-panel', (ps) => ps.map((p) => [Number(p.dataset.lr), p.dataset.status]));
    assert.deepEqual(panels, lrs.runs.map((r) => [r.lr, r.status]));
    assert.deepEqual(panels.map(([, s]) => s === 'diverged'), [false, false, true], '0.2 and 0.8 descend, 1.1 diverges');
    const finals = (await attrs(page, '[data-plot="lr-path-0"] circle.final', 'data-b')).map(num);
    assert.deepEqual(finals, [lrs.runs[0].final.b]);
    for (const [k, run] of lrs.runs.entries()) {
        const sel = `[data-plot="lr-loss-${k}"] .loss-train`;
        assert.equal(num(await attr(page, sel, 'data-first')), run.history.train_loss[0]);
        const last = run.final.train_loss === null ? null : String(run.final.train_loss); // null: overflowed
        assert.equal(await attr(page, sel, 'data-last'), last, `loss curve ${run.lr} ends where the run does`);
    }

    // 6. The bad feature: the critical rate 0.806 → 0.031.
    const crit = (await attrs(page, '[data-plot="bad-lr"] .crit-line', 'data-lr-critical')).map(num);
    assert.deepEqual(crit, [step.analysis.lr_critical, scale.before.lr_critical]);
    assert.equal(num(await attr(page, '[data-plot="bad-after"] svg', 'data-loss-max')), lossMax(badSurface));

    // 7. Standardization: condition 112 → 1, critical rate 0.031 → 1.
    const col = async (c) => (await attrs(page, `#scale-table td[data-col="${c}"]`, 'data-value')).map(num);
    const [mult, scaled] = [await col('multiplied'), await col('scaled')];
    assert.equal(mult[0], scale.before.condition_number);
    assert.equal(scaled[0], scale.after.condition_number);
    assert.equal(mult[3], scale.before.lr_critical);
    assert.equal(scaled[3], scale.after.lr_critical);
    assert.equal(Math.round(mult[0]), 112);
    assert.ok(Math.abs(scaled[0] - 1) < 1e-9, 'condition 1 after standardization');
    assert.equal(num(await attr(page, '[data-plot="std-scaled"] svg', 'data-loss-max')), lossMax(scaledSurface));
    await context.close();
});

test('moving the learning rate past the critical rate, by keyboard, turns the run to "diverged"', async () => {
    const { context, page, problems } = await openPage();
    const critical = num(await attr(page, '#lr-crit-mark', 'data-lr-critical'));
    const slider = page.locator('#lr');
    await slider.focus();
    const value = async () => num(await slider.inputValue());
    // Up to just below the critical rate: the run still descends.
    while (await value() + 0.01 < critical) await page.keyboard.press('ArrowRight');
    const below = await value();
    await ready(page, `window.gdlab.state.lr === ${below}`);
    assert.notEqual(await page.textContent('#eta-status'), 'diverged', `η = ${below} < ${critical} descends`);
    await shot(page, 's5');
    // One step further, past it: diverged.
    await page.keyboard.press('ArrowRight');
    const above = await value();
    assert.ok(above > critical, `${above} > ${critical}`);
    await ready(page, `window.gdlab.state.lr === ${above}`);
    assert.equal(await page.textContent('#eta-status'), 'diverged');
    assert.equal(await attr(page, '#eta-status', 'data-status'), 'diverged');
    const run = (await api(`/train${D}&lr=${above}&epochs=1000&history=1001`)).runs[0];
    assert.equal(run.status, 'diverged', 'the API agrees');
    assert.equal(await attr(page, '[data-plot="eta-loss"] .loss-train', 'data-status'), 'diverged');
    assert.match(page.url(), new RegExp(`#lr=${above}$`), 'the learning rate is in the address');
    await shot(page, 's5', 'section-s5-diverged.png');
    assert.deepEqual(problems, []);
    await context.close();
});

test('changing the multiplier and the scaler changes the surfaces', async () => {
    const { context, page, problems } = await openPage();
    const max = async (plot) => num(await attr(page, `[data-plot="${plot}"] svg`, 'data-loss-max'));
    const bad0 = await max('bad-after'), scaled0 = await max('std-scaled');
    assert.equal(bad0, lossMax(ref.badSurface));

    await page.fill('#multiplier', '3');
    await page.press('#multiplier', 'Enter');
    await ready(page, 'window.gdlab.state.multiplier === 3');
    const bad3 = await api(`/surface${D}&x_multiplier=3`);
    assert.notEqual(await max('bad-after'), bad0);
    assert.equal(await max('bad-after'), lossMax(bad3));
    assert.equal(await max('std-bad'), lossMax(bad3));
    const scale3 = await api(`/scale${D}&x_multiplier=3&scaler=standard`);
    const crit = (await attrs(page, '[data-plot="bad-lr"] .crit-line', 'data-lr-critical')).map(num);
    assert.equal(crit[1], scale3.before.lr_critical);

    await page.selectOption('#scaler', 'minmax');
    await ready(page, 'window.gdlab.state.scaler === "minmax"');
    const mm = await api(`/surface${D}&x_multiplier=3&scaler=minmax`);
    assert.notEqual(await max('std-scaled'), scaled0);
    assert.equal(await max('std-scaled'), lossMax(mm));
    const after = await api(`/scale${D}&x_multiplier=3&scaler=minmax`);
    const scaledCol = (await attrs(page, '#scale-table td[data-col="scaled"]', 'data-value')).map(num);
    assert.equal(scaledCol[0], after.after.condition_number);
    assert.match(page.url(), /#multiplier=3&scaler=minmax$/);
    await shot(page, 's7', 'section-s7-minmax.png');
    assert.deepEqual(problems, []);
    await context.close();
});

test('a shared address restores the view', async () => {
    const { context, page, problems } = await openPage('#seed=7&n=50&lr=0.5&epochs=200&multiplier=4&scaler=minmax');
    assert.equal(await page.inputValue('#seed'), '7');
    assert.equal(await page.inputValue('#n'), '50');
    assert.equal(await page.inputValue('#lr'), '0.5');
    assert.equal(await page.inputValue('#scaler'), 'minmax');
    const ds = await api('/dataset?seed=7&n=50&noise=0.1');
    const xs = (await attrs(page, '[data-plot="scatter-train"] circle', 'data-x')).map(num);
    assert.deepEqual(xs, ds.train.x);
    const eta = await api('/train?seed=7&n=50&noise=0.1&lr=0.5&epochs=200&history=201');
    assert.equal(await attr(page, '#eta-status', 'data-status'), eta.runs[0].status);
    // Editing the address (or going back) moves the page too.
    await page.evaluate(() => { location.hash = 'seed=8'; });
    await ready(page, 'window.gdlab.state.seed === 8');
    assert.equal(await page.inputValue('#seed'), '8');
    assert.equal(await page.inputValue('#lr'), '0.1', 'what the address omits is the book\'s');
    const ds8 = await api('/dataset?seed=8&n=100&noise=0.1');
    assert.deepEqual((await attrs(page, '[data-plot="scatter-val"] circle', 'data-y')).map(num), ds8.val.y);
    assert.deepEqual(problems, []);
    await context.close();
});

test('a bad value is named on its control and nothing breaks', async () => {
    const { context, page } = await openPage();
    await page.fill('#n', '1');
    await page.press('#n', 'Enter');
    assert.equal(await attr(page, '#n', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#status'), /n must be an integer in 5\.\.10000/);
    assert.equal(await page.evaluate(() => window.gdlab.state.n), 100, 'the state keeps the last good value');
    await context.close();
});

test('accessible: every control labelled, reachable by keyboard; readable on a phone', async () => {
    const { context, page, problems } = await openPage('', { width: 390, height: 844 });
    const unlabelled = await page.$$eval('input, select, button', (els) => els
        .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map((e) => e.id || e.outerHTML));
    assert.deepEqual(unlabelled, []);
    const reached = [];
    for (let k = 0; k < 14; k++) {
        await page.keyboard.press('Tab');
        reached.push(await page.evaluate(() => document.activeElement.id));
    }
    for (const id of ['seed', 'n', 'noise', 'lrs', 'epochs', 'multiplier', 'scaler', 'reset', 'lr', 'lr-num']) {
        assert.ok(reached.includes(id), `Tab reaches #${id} (${reached.join(' ')})`);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow} px too wide)`);
    const figures = await page.$$eval('.plot svg', (svgs) => svgs.map((s) => s.getBoundingClientRect().width));
    assert.ok(figures.every((w) => w > 0 && w <= 390), 'figures fit the phone');
    await renderAll(page);
    await page.screenshot({ path: join(artifacts, 'page-phone.png'), fullPage: true });
    for (const s of ['s4', 's5']) await shot(page, s, `phone-section-${s}.png`);
    assert.deepEqual(problems, []);
    await context.close();
});

// --- section 8: beyond plain gradient descent ---------------------------------------------------------

// Section 8 loads when it comes near the screen: scroll to it and wait until it has drawn.
async function open8(hash = '', viewport = undefined)
{
    const opened = await openPage(hash, viewport);
    const before = opened.requests.length;
    assert.equal(await attr(opened.page, '#s8', 'data-state'), 'idle', 'section 8 waits for the reader');
    await opened.page.locator('#s8').scrollIntoViewIfNeeded();
    await ready(opened.page, "document.querySelector('#s8').dataset.state !== 'loading' && document.querySelector('#s8').dataset.state !== 'idle'");
    assert.equal(await attr(opened.page, '#s8', 'data-state'), 'ready');
    return { ...opened, requests8: () => opened.requests.slice(before) };
}

const B8 = `${D}&x_multiplier=10`;
const MAP = `${B8}&optimizer=momentum&lr_steps=100&momentum_steps=50`;
const raceUrl = (lr, extra = '') => `/train${B8}${extra}&optimizer=gd,momentum,nesterov,adam&lr=${lr}&epochs=100&history=101`;
const pointUrl = (lr, beta) => `/train${B8}&optimizer=momentum&lr=${lr}&momentum=${beta}&epochs=100&history=101`;
const lastLoss = async (page, sel) => attr(page, sel, 'data-last');

test('section 8 draws the race, the stability map, the range test and mini-batches with the API\'s numbers', async () => {
    const { context, page, problems, requests8 } = await open8();
    const lr = ref.scale.before.lr_critical / 2;
    const [stab, race, point, full, mini] = await Promise.all([api(`/stability${MAP}`), api(raceUrl(lr)),
        api(pointUrl(0.02, 0.9)), api(`/train${D}&lr=0.1&epochs=30&history=31`),
        api(`/train${D}&lr=0.1&epochs=30&batch_size=8&history_unit=step&history=301`)]);

    // 1. The race: one rate, half of gd's critical rate on x × 10; every run ends where /train's does.
    assert.equal(num(await attr(page, '[data-bind="race_lr"]', 'data-value')), lr);
    for (const run of race.runs) {
        assert.equal(await lastLoss(page, `[data-plot="race-loss"] .loss-train[data-optimizer="${run.optimizer}"]`),
            String(run.final.train_loss), `${run.optimizer}'s loss curve ends at /train's final loss`);
        assert.equal(num(await attr(page, `#race-table tr[data-optimizer="${run.optimizer}"] td[data-key="train_loss"]`, 'data-value')),
            run.final.train_loss);
        assert.equal(num(await attr(page, `[data-plot="race-path"] circle.final[data-b="${run.final.b}"]`, 'data-w')),
            run.final.w, `${run.optimizer}'s path ends at /train's final (b, w)`);
    }
    const fin = Object.fromEntries(race.runs.map((r) => [r.optimizer, r.final.train_loss]));
    assert.ok(fin.momentum < fin.gd && fin.nesterov < fin.gd && fin.adam < fin.gd, 'momentum, Nesterov and Adam beat gd in the valley');

    // 2. The stability map: its critical-rate curve and Polyak's point are /stability's, and the
    // reader's point runs as /train says.
    const curve = '[data-plot="map"] .crit-curve';
    assert.deepEqual((await attr(page, curve, 'data-lr-critical')).split(',').map(num), stab.lr_critical);
    assert.deepEqual((await attr(page, curve, 'data-momentum')).split(',').map(num), stab.momentum);
    const polyak = '[data-plot="map"] .polyak';
    assert.equal(num(await attr(page, polyak, 'data-lr')), stab.polyak.lr);
    assert.equal(num(await attr(page, polyak, 'data-momentum')), stab.polyak.momentum);
    assert.equal(num(await attr(page, polyak, 'data-rate')), stab.polyak.rate);
    assert.equal(num(await attr(page, '[data-plot="map"] svg', 'data-lr-min')), stab.lr[0]);
    assert.ok(Number(await page.$$eval('[data-plot="map"] path.band', (ps) => ps.length)) >= 5, 'the map is shaded');
    assert.equal(await lastLoss(page, '[data-plot="point-loss"] .loss-train'), String(point.runs[0].final.train_loss));
    assert.equal(await attr(page, '#point-status', 'data-status'), point.runs[0].status);
    assert.match(await page.textContent('#point-explain'), new RegExp(`critical rate at this β is ${point.analysis.stability.lr_critical.momentum.toPrecision(4)}`));

    // 3. The range test.
    const finder = '[data-plot="finder"]';
    if (LR_FINDER_SERVED) {
        const fd = await api(`/lr-finder${B8}`);
        assert.equal(num(await attr(page, `${finder} .finder-loss`, 'data-points')), fd.lr.length);
        assert.equal(num(await attr(page, `${finder} .finder-critical`, 'data-lr')), fd.lr_critical);
        assert.equal(num(await attr(page, `${finder} .finder-optimal`, 'data-lr')), fd.lr_optimal);
        assert.equal(fd.lr_critical, ref.scale.before.lr_critical, 'the exact critical rate is /scale\'s');
        if (fd.suggestion.lr !== null) assert.equal(num(await attr(page, `${finder} .finder-suggestion`, 'data-lr')), fd.suggestion.lr);
        assert.equal(num(await attr(page, `${finder} .finder-min`, 'data-lr')), fd.min_loss.lr);
    } else {
        assert.equal(await attr(page, finder, 'data-missing'), 'lr-finder');
        assert.match(await page.textContent(finder), /does not offer yet/);
        assert.deepEqual(requests8().filter((u) => u.includes('/lr-finder')), [], 'no request for an endpoint the index lacks');
    }

    // 4. Mini-batches against the full batch, at section 5's rate.
    assert.equal(await lastLoss(page, '[data-plot="mb-loss"] .loss-train[data-batch="8"]'), String(mini.runs[0].final.train_loss));
    assert.equal(await page.$$eval('[data-plot="mb-loss"] .loss-train', (ps) => ps[0].getAttribute('data-last')), String(full.runs[0].final.train_loss));
    assert.ok(mini.runs[0].steps_run === 10 * full.runs[0].epochs_run, 'batches of 8 make 10 steps an epoch');

    // Its requests: the index, the map, the point, the race and its close-up, two runs and their
    // close-up (and the range test, once served); the surfaces of sections 5–7 come from the cache.
    const asked = requests8();
    assert.ok(asked.length <= 9, `section 8 asks for little (${asked.length}: ${asked.join(' ')})`);
    await shot(page, 's8');
    assert.deepEqual(problems, []);
    await context.close();
});

test('section 8: moving the reader\'s point by keyboard changes the address and the run', async () => {
    const { context, page, problems } = await open8();
    const point = page.locator('[data-plot="map"] .map-point');
    await point.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowUp');
    await ready(page, 'window.gdlab.state.map_lr === 0.025 && window.gdlab.state.map_beta === 0.91 && document.querySelector("#s8").dataset.state !== "loading"');
    assert.match(page.url(), /#map_lr=0\.025&map_beta=0\.91$/, 'the point is in the address');
    assert.equal(await page.inputValue('#map-lr'), '0.025');
    assert.equal(await page.inputValue('#map-beta'), '0.91');
    assert.equal(await attr(page, '[data-plot="map"] .map-point', 'aria-valuetext'), 'η = 0.025, β = 0.91');
    let run = await api(pointUrl(0.025, 0.91));
    assert.equal(await lastLoss(page, '[data-plot="point-loss"] .loss-train'), String(run.runs[0].final.train_loss));
    // On past the critical rate at β = 0.91: the run diverges, as /train's critical rate says.
    const critical = run.analysis.stability.lr_critical.momentum;
    let lr = 0.025;
    while (lr < critical) {
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction((v) => window.gdlab.state.map_lr > v, lr);
        lr = await page.evaluate(() => window.gdlab.state.map_lr);
    }
    await ready(page, `window.gdlab.state.map_lr === ${lr} && document.querySelector("#s8").dataset.state !== "loading"`);
    run = await api(pointUrl(lr, 0.91));
    assert.equal(run.runs[0].status, 'diverged', `the API: η = ${lr} > ${critical} diverges`);
    assert.equal(await attr(page, '#point-status', 'data-status'), 'diverged');
    assert.equal(num(await attr(page, '#point-status', 'data-lr')), lr);
    assert.match(page.url(), new RegExp(`#map_lr=${lr}&map_beta=0\\.91$`));
    await shot(page, 's8', 'section-s8-diverged.png');
    // A shared address puts the point back.
    await page.evaluate(() => { location.hash = 'map_lr=0.05&map_beta=0.7'; });
    await ready(page, 'window.gdlab.state.map_lr === 0.05 && document.querySelector("#s8").dataset.state !== "loading"');
    run = await api(pointUrl(0.05, 0.7));
    assert.equal(await lastLoss(page, '[data-plot="point-loss"] .loss-train'), String(run.runs[0].final.train_loss));
    assert.equal(await attr(page, '[data-plot="map"] .map-point', 'data-lr'), '0.05');
    assert.deepEqual(problems, []);
    await context.close();
});

test('section 8: scaling still wins, and the point can be dragged', async () => {
    const { context, page, problems } = await open8();
    // The feature chooser by keyboard: the race reruns on the standardized feature at its own rate.
    await page.focus('input[name="feature"][value="multiplied"]');
    await page.keyboard.press('ArrowRight');
    await ready(page, 'window.gdlab.state.feature === "scaled" && document.querySelector("#s8").dataset.state !== "loading"');
    assert.match(page.url(), /#feature=scaled$/);
    const lr = ref.scale.after.lr_critical / 2;
    const race = await api(raceUrl(lr, '&scaler=standard'));
    assert.equal(num(await attr(page, '[data-bind="race_lr"]', 'data-value')), lr);
    for (const run of race.runs) {
        assert.equal(await lastLoss(page, `[data-plot="race-loss"] .loss-train[data-optimizer="${run.optimizer}"]`),
            String(run.final.train_loss));
    }
    const bad = await api(raceUrl(ref.scale.before.lr_critical / 2));
    const gdScaled = race.runs.find((r) => r.optimizer === 'gd').final.train_loss;
    for (const run of bad.runs) assert.ok(gdScaled <= run.final.train_loss, `gd on the scaled feature beats ${run.optimizer} in the valley`);
    const stab = await api(`/stability${B8}&scaler=standard&optimizer=momentum&lr_steps=100&momentum_steps=50`);
    assert.equal(num(await attr(page, '[data-plot="map"] .polyak', 'data-lr')), stab.polyak.lr);
    await shot(page, 's8', 'section-s8-scaled.png');
    // A press on the map moves the point there, in round numbers.
    await page.locator('#fig-map').scrollIntoViewIfNeeded();
    const box = await page.locator('[data-plot="map"] .polyak').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await ready(page, `window.gdlab.state.map_beta !== 0.9 && document.querySelector("#s8").dataset.state !== "loading"`);
    const s = await page.evaluate(() => window.gdlab.state);
    assert.ok(Math.abs(s.map_lr / stab.polyak.lr - 1) < 0.1, `dragged to η ≈ Polyak's (${s.map_lr} vs ${stab.polyak.lr})`);
    assert.ok(Math.abs(s.map_beta - stab.polyak.momentum) < 0.03, `dragged to β ≈ Polyak's (${s.map_beta} vs ${stab.polyak.momentum})`);
    assert.match(page.url(), new RegExp(`map_lr=${s.map_lr}&map_beta=${s.map_beta}`));
    assert.deepEqual(problems, []);
    await context.close();
});

test('section 8 on a phone: no sideways scrolling, figures fit', async () => {
    const { context, page, problems } = await open8('', { width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow} px too wide)`);
    const figures = await page.$$eval('#s8 .plot', (ps) => ps.map((p) => p.getBoundingClientRect().width));
    assert.ok(figures.length >= 8 && figures.every((w) => w > 0 && w <= 390), `section 8's figures fit the phone (${figures})`);
    await page.selectOption('#batch', '1');
    await ready(page, 'window.gdlab.state.batch === 1 && document.querySelector("#s8").dataset.state !== "loading"');
    const sgd = await api(`/train${D}&lr=0.1&epochs=30&batch_size=1&history_unit=step&history=2401`);
    assert.equal(await lastLoss(page, '[data-plot="mb-loss"] .loss-train[data-batch="1"]'), String(sgd.runs[0].final.train_loss));
    await shot(page, 's8', 'phone-section-s8.png');
    assert.deepEqual(problems, []);
    await context.close();
});
