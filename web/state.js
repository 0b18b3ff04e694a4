// The page's state and its requests, as a module of its own: index.html loads it first (async), so
// that it asks the API for everything while the rest of the page is still loading; app.js then
// finds the answers in the same cache.

// The book's defaults. Sections 1–5 use the feature as generated; the multiplier and the scaler
// drive sections 6 and 7, where the tutorial makes the feature "bad" and then repairs it.
// Section 8 adds its own: which feature it races on (the multiplied one, or that one scaled), the
// reader's point (learning rate, momentum β) on the stability map, and the mini-batch size.
export const DEFAULTS = Object.freeze({
    seed: 42, n: 100, noise: 0.1, lr: 0.1, lrs: [0.2, 0.8, 1.1], epochs: 1000, multiplier: 10,
    scaler: 'standard', feature: 'multiplied', map_lr: 0.02, map_beta: 0.9, batch: 8,
});
const SCALERS = ['standard', 'minmax', 'none'];
const FEATURES = ['multiplied', 'scaled'];
const HISTORY_MAX = 1001; // points per run: every epoch up to the book's 1000

// Section 8's fixed horizons: long enough to tell the optimizers apart on the narrow valley, short
// enough that every step of a path can be seen.
export const RACE = Object.freeze({ optimizers: ['gd', 'momentum', 'nesterov', 'adam'], epochs: 100 });
export const MINIBATCH_EPOCHS = 30;
// The stability map's grid: the critical-rate curve is a straight line in β and the cells' radius is
// smooth, so 100 × 50 cells give clean contours at a fifth of the default grid's bytes.
const MAP_GRID = { lr_steps: 100, momentum_steps: 50 };
// Close-ups of the loss surface around a few paths: finer than the whole grid, lighter than its 101².
const ZOOM_GRID = { b_steps: 61, w_steps: 61 };
export const MAP_BETA_MAX = 0.99; // the map's top row, /stability's default momentum_max

// --- state in the address -----------------------------------------------------------------------

// Each setting: how to read it from text, and the rule it must satisfy (the message names the limit).
export const FIELDS = {
    seed: { parse: Number, check: (v) => Number.isInteger(v) && v >= 0 && v <= 4294967295, limit: 'an integer in 0..4294967295' },
    n: { parse: Number, check: (v) => Number.isInteger(v) && v >= 5 && v <= 10000, limit: 'an integer in 5..10000' },
    noise: { parse: Number, check: (v) => Number.isFinite(v) && v >= 0 && v <= 10, limit: 'a number in 0..10' },
    lr: { parse: Number, check: (v) => Number.isFinite(v) && v > 0 && v <= 100, limit: 'a number in (0, 100]' },
    lrs: {
        parse: (s) => String(s).split(',').map((t) => t.trim()).filter((t) => t !== '').map(Number),
        check: (v) => v.length >= 1 && v.length <= 6 && v.every((x) => Number.isFinite(x) && x > 0 && x <= 100),
        limit: '1 to 6 numbers in (0, 100], comma separated',
    },
    epochs: { parse: Number, check: (v) => Number.isInteger(v) && v >= 1 && v <= 100000, limit: 'an integer in 1..100000' },
    multiplier: { parse: Number, check: (v) => Number.isFinite(v) && v !== 0 && Math.abs(v) >= 1e-3 && Math.abs(v) <= 1e3, limit: 'a non-zero number with 0.001 ≤ |m| ≤ 1000' },
    scaler: { parse: String, check: (v) => SCALERS.includes(v), limit: 'standard, minmax or none' },
    feature: { parse: String, check: (v) => FEATURES.includes(v), limit: 'multiplied or scaled' },
    map_lr: { parse: Number, check: (v) => Number.isFinite(v) && v > 0 && v <= 100, limit: 'a number in (0, 100]' },
    map_beta: { parse: Number, check: (v) => Number.isFinite(v) && v >= 0 && v <= MAP_BETA_MAX, limit: `a number in [0, ${MAP_BETA_MAX}]` },
    batch: { parse: Number, check: (v) => Number.isInteger(v) && v >= 1 && v <= 10000, limit: 'an integer in 1..10000' },
};

export const same = (a, b) => (Array.isArray(a) ? a.join(',') === b.join(',') : a === b);

export function stateFromHash()
{
    const state = { ...DEFAULTS };
    const q = new URLSearchParams(location.hash.replace(/^#/, ''));
    for (const [name, field] of Object.entries(FIELDS)) {
        if (!q.has(name)) continue;
        const v = field.parse(q.get(name));
        if (field.check(v)) state[name] = v;
    }
    return state;
}

export function writeHash(state)
{
    const q = new URLSearchParams();
    for (const name of Object.keys(FIELDS)) {
        if (!same(state[name], DEFAULTS[name])) q.set(name, Array.isArray(state[name]) ? state[name].join(',') : state[name]);
    }
    const text = q.toString().replace(/%2C/g, ',');
    const url = text ? `#${text}` : location.pathname;
    if ((location.hash || '') !== (text ? `#${text}` : '')) history.replaceState(null, '', url);
}

// --- the API --------------------------------------------------------------------------------------

const cache = new Map();

// GET an endpoint, answers kept by URL: moving one control refetches only what depends on it.
export function api(path, params)
{
    const q = Object.entries(params).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join('&');
    const url = `/${path}?${q}`;
    if (cache.has(url)) return cache.get(url);
    const p = fetch(url, { headers: { Accept: 'application/json' } }).then(async (res) => {
        const body = await res.json().catch(() => null);
        if (!res.ok) {
            const why = body && (body.detail || body.title) ? body.detail || body.title : res.statusText;
            throw new Error(`${path}: ${why}`);
        }
        return body;
    });
    p.catch(() => cache.delete(url));
    if (cache.size > 96) cache.delete(cache.keys().next().value);
    cache.set(url, p);
    return p;
}

export function requests(s)
{
    const data = { seed: s.seed, n: s.n, noise: s.noise };
    const bad = { ...data, x_multiplier: s.multiplier };
    const hist = Math.min(s.epochs + 1, HISTORY_MAX);
    return {
        dataset: () => api('dataset', data),
        surface: () => api('surface', data),
        cross: () => api('cross-section', data),
        step: () => api('train', { ...data, lr: s.lr, epochs: 1, history: 2 }),
        eta: () => api('train', { ...data, lr: s.lr, epochs: s.epochs, history: hist }),
        lrs: () => api('train', { ...data, lr: s.lrs, epochs: s.epochs, history: hist }),
        badSurface: () => api('surface', bad),
        badCross: () => api('cross-section', bad),
        // `before` does not depend on the scaler; with none, after = before.
        scale: () => api('scale', { ...bad, scaler: s.scaler === 'none' ? 'standard' : s.scaler }),
        scaledSurface: () => (s.scaler === 'none' ? api('surface', bad) : api('surface', { ...bad, scaler: s.scaler })),
    };
}

// Section 8's requests: asked only once the reader comes near it, so that they never hold up the
// first seven sections. The race and the range test run on the chapter's feature: x × multiplier,
// as is or after the scaler of section 7 (standard when that one is "none").
export const MISSING = Symbol('missing');
export function requests8(s)
{
    const data = { seed: s.seed, n: s.n, noise: s.noise };
    const bad = { ...data, x_multiplier: s.multiplier };
    const scaler = s.scaler === 'none' ? 'standard' : s.scaler;
    const feat = s.feature === 'scaled' ? { ...bad, scaler } : bad;
    const base = requests(s);
    const perBatch = Math.ceil(Math.floor(s.n * 0.8) / s.batch);
    const grid = (v) => ({ b_min: v.b[0], b_max: v.b[1], w_min: v.w[0], w_max: v.w[1], ...ZOOM_GRID });
    return {
        surface: () => api('surface', feat),
        zoom: (view) => api('surface', { ...feat, ...grid(view) }),
        zoomGenerated: (view) => api('surface', { ...data, ...grid(view) }),
        // Every optimizer at one rate: half of plain gradient descent's critical rate for this feature,
        // the largest rate at which gd does not zig-zag (the rate /scale reported, not a number of ours).
        race: () => base.scale().then((sc) => api('train', {
            ...feat, optimizer: RACE.optimizers,
            lr: (s.feature === 'scaled' ? sc.after : sc.before).lr_critical / 2,
            epochs: RACE.epochs, history: RACE.epochs + 1,
        })),
        stability: () => api('stability', { ...feat, optimizer: 'momentum', ...MAP_GRID }),
        point: () => api('train', { ...feat, optimizer: 'momentum', lr: s.map_lr, momentum: s.map_beta,
            epochs: RACE.epochs, history: RACE.epochs + 1 }),
        // /lr-finder is newer than the rest: ask for it only when the server's index lists it, so
        // that a server without it costs one small request and no 404 in the console.
        finder: () => api('', {}).then((index) => (index.endpoints.some((e) => e.path === '/lr-finder')
            ? api('lr-finder', feat) : MISSING)),
        surfaceGenerated: base.surface,
        fullBatch: () => api('train', { ...data, lr: s.lr, epochs: MINIBATCH_EPOCHS, history: MINIBATCH_EPOCHS + 1 }),
        miniBatch: () => api('train', { ...data, lr: s.lr, epochs: MINIBATCH_EPOCHS, batch_size: s.batch,
            history_unit: 'step', history: Math.min(MINIBATCH_EPOCHS * perBatch + 1, 2401) }),
    };
}

// Ask at once for what the address shows; app.js draws from the same cache.
for (const get of Object.values(requests(stateFromHash()))) get().catch(() => {});
