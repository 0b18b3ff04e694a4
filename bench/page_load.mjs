// How fast the tutorial page draws: cold loads (each in a fresh browser context, empty cache) of
// the page served by a real gdlab, timed from navigation start to the first frame with every
// figure drawn (window.gdlab.readyMs). A measurement, not a test: tests/web checks behaviour.
//
//   node bench/page_load.mjs --server build/bench-rel/src/gdlab [--loads 9] [--json]
//
// Prints one line per load and the median; --json prints {"loads": [...], "median_ms": ...}.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
    options: {
        server: { type: 'string' },
        loads: { type: 'string', default: '9' },
        chromium: { type: 'string', default: '/usr/bin/chromium' },
        json: { type: 'boolean', default: false },
    },
});
if (!opt.server) {
    console.error('usage: page_load.mjs --server GDLAB [--loads N] [--chromium PATH] [--json]');
    process.exit(2);
}
const webRoot = join(top, 'web');
const { chromium } = createRequire(join(webRoot, 'package.json'))('playwright-core');

const child = spawn(opt.server, ['--port', '0', '--web-root', webRoot, '--access-log', 'off'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
const base = await new Promise((res, rej) => {
    let log = '';
    child.stderr.on('data', (d) => {
        log += d;
        const m = /listening on (http:\/\/\S+:\d+)\//.exec(log);
        if (m) res(m[1]);
    });
    child.on('exit', () => rej(new Error(`gdlab exited:\n${log}`)));
});

const browser = await chromium.launch({
    executablePath: opt.chromium, timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// the browser's own first start is no part of a page load
{
    const warm = await browser.newContext();
    await (await warm.newPage()).goto(`${base}/static/vendor/LICENSES.txt`);
    await warm.close();
}
const loads = [];
for (let i = 0; i < Number(opt.loads); i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForFunction(() => window.gdlab && window.gdlab.readyMs !== null, null, { timeout: 30000 });
    const ms = await page.evaluate(() => window.gdlab.readyMs);
    loads.push(ms);
    if (!opt.json) console.log(`load ${i + 1}: ${ms.toFixed(0)} ms`);
    await context.close();
}
await browser.close();
child.kill('SIGTERM');
const sorted = [...loads].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
if (opt.json) console.log(JSON.stringify({ loads, median_ms: median }));
else console.log(`median ${median.toFixed(0)} ms over ${loads.length} cold loads (min ${sorted[0].toFixed(0)}, max ${sorted.at(-1).toFixed(0)})`);
