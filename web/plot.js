// Small SVG plotting helpers for the tutorial page: scales, axes, scatter and line charts, and filled
// contour plots of a loss surface (polygons from d3-contour, loaded as the global `d3`).
// Every mark that shows an API number carries it in a data-* attribute, as the API wrote it, so the
// browser tests can compare what is drawn with what the server said.

const NS = 'http://www.w3.org/2000/svg';

// Plot sizes in SVG user units; the SVG scales to its container's width.
export const SIZES = {
    square: { width: 340, height: 340, margin: { top: 12, right: 56, bottom: 40, left: 46 } },
    chart: { width: 400, height: 300, margin: { top: 14, right: 14, bottom: 40, left: 52 } },
    wide: { width: 640, height: 320, margin: { top: 14, right: 14, bottom: 40, left: 52 } },
    strip: { width: 640, height: 128, margin: { top: 10, right: 16, bottom: 34, left: 150 } },
};

// Okabe–Ito: distinguishable under the common colour-vision deficiencies.
export const OKABE_ITO = ['#009e73', '#e69f00', '#d55e00', '#cc79a7', '#56b4e9', '#0072b2', '#000000'];

export function el(tag, attrs = {}, parent = null, text = null)
{
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    if (text !== null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
}

// A number for people: a few significant digits, a real minus sign.
export function fmt(v, digits = 3)
{
    if (v === null || v === undefined || !Number.isFinite(v)) return '∞';
    const a = Math.abs(v);
    let s;
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) s = v.toExponential(Math.max(1, digits - 1));
    else if (a >= 100) s = v.toFixed(Math.max(0, digits - 3 + 1));
    else s = Number(v.toPrecision(digits)).toString();
    return s.replace('-', '−');
}

// Two decimals, as the tutorial quotes its numbers.
export function fmt2(v)
{
    if (v === null || !Number.isFinite(v)) return '∞';
    return (Math.abs(v) < 0.005 ? 0 : v).toFixed(2).replace('-', '−');
}

export function linear(domain, range)
{
    const [d0, d1] = domain, [r0, r1] = range;
    const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    const s = (v) => r0 + (v - d0) * k;
    s.domain = domain;
    s.range = range;
    s.ticks = (n = 5) => d3.ticks(d0, d1, n);
    s.invert = (p) => d0 + (p - r0) / k;
    return s;
}

export function log10(domain, range)
{
    const l0 = Math.log10(domain[0]), l1 = Math.log10(domain[1]);
    const inner = linear([l0, l1], range);
    const s = (v) => inner(Math.log10(v));
    s.domain = domain;
    s.range = range;
    s.ticks = () => {
        const out = [];
        const step = Math.max(1, Math.ceil((Math.ceil(l1) - Math.floor(l0)) / 6));
        for (let e = Math.ceil(l0); e <= Math.floor(l1); e += step) out.push(10 ** e);
        return out;
    };
    s.invert = (p) => 10 ** inner.invert(p);
    s.log = true;
    return s;
}

// Extend [lo, hi] a little on both sides (and give a flat range some height).
export function pad(lo, hi, frac = 0.06)
{
    if (!(hi > lo)) {
        const d = Math.abs(lo) * 0.1 || 1;
        return [lo - d, hi + d];
    }
    const d = (hi - lo) * frac;
    return [lo - d, hi + d];
}

function tickText(v, scale)
{
    if (scale.log) {
        const e = Math.round(Math.log10(v));
        return e >= -2 && e <= 3 ? String(10 ** e) : `1e${e}`;
    }
    const step = Math.abs(scale.ticks()[1] - scale.ticks()[0]) || 1;
    const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
    return Number(v.toFixed(decimals)).toString().replace('-', '−');
}

let clipCounter = 0;

// An SVG in the container with a plot area; returns the frame that the other helpers draw into.
export function frame(container, size, label)
{
    container.replaceChildren();
    container.classList.remove('failed');
    const { width, height, margin } = size;
    const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label,
        preserveAspectRatio: 'xMidYMid meet' }, container);
    el('title', {}, svg, label);
    const id = `clip${++clipCounter}`;
    const defs = el('defs', {}, svg);
    const w = width - margin.left - margin.right, h = height - margin.top - margin.bottom;
    el('rect', { x: 0, y: 0, width: w, height: h }, el('clipPath', { id }, defs));
    const g = el('g', { transform: `translate(${margin.left},${margin.top})` }, svg);
    const under = el('g', { class: 'under' }, g);
    const plot = el('g', { class: 'plot-area', 'clip-path': `url(#${id})` }, g);
    const over = el('g', { class: 'over' }, g);
    return { svg, g, under, plot, over, w, h, size };
}

export function axes(f, x, y, { xTitle = '', yTitle = '', grid = true, xTicks = 6, yTicks = 5 } = {})
{
    const ax = el('g', { class: 'axis' }, f.under);
    if (grid) {
        const gr = el('g', { class: 'grid' }, f.under);
        for (const t of y.ticks(yTicks)) el('line', { x1: 0, x2: f.w, y1: y(t), y2: y(t) }, gr);
    }
    el('line', { x1: 0, x2: f.w, y1: f.h, y2: f.h }, ax);
    el('line', { x1: 0, x2: 0, y1: 0, y2: f.h }, ax);
    for (const t of x.ticks(xTicks)) {
        el('line', { x1: x(t), x2: x(t), y1: f.h, y2: f.h + 4 }, ax);
        el('text', { x: x(t), y: f.h + 15, 'text-anchor': 'middle' }, ax, tickText(t, x));
    }
    for (const t of y.ticks(yTicks)) {
        el('line', { x1: -4, x2: 0, y1: y(t), y2: y(t) }, ax);
        el('text', { x: -6, y: y(t) + 3.5, 'text-anchor': 'end' }, ax, tickText(t, y));
    }
    if (xTitle) el('text', { class: 'axis-title', x: f.w / 2, y: f.h + 32, 'text-anchor': 'middle' }, f.over, xTitle);
    if (yTitle) {
        el('text', { class: 'axis-title', transform: `translate(${-38},${f.h / 2}) rotate(-90)`,
            'text-anchor': 'middle' }, f.over, yTitle);
    }
}

// Keep far-away points (a diverging run) drawable: SVG coordinates must stay finite and modest.
const clampPx = (v) => Math.max(-1e5, Math.min(1e5, v));

// A path through the points; a point within half a unit of the last one drawn adds nothing visible
// and is left out (a converged run piles a thousand epochs onto one spot), the last one always kept.
export function polyline(points, x, y)
{
    let d = '';
    let pen = false;
    let px = 0, py = 0, held = null;
    for (const [a, b] of points) {
        if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) {
            if (held) d += held;
            held = null;
            pen = false;
            continue;
        }
        const u = clampPx(x(a)), v = clampPx(y(b));
        const seg = `${pen ? 'L' : 'M'}${u.toFixed(2)},${v.toFixed(2)}`;
        if (pen && Math.abs(u - px) < 0.5 && Math.abs(v - py) < 0.5) {
            held = seg;
            continue;
        }
        d += seg;
        held = null;
        px = u;
        py = v;
        pen = true;
    }
    if (held) d += held;
    return d;
}

export function scatter(f, xs, ys, x, y, cls, radius = 3)
{
    const g = el('g', { class: cls }, f.plot);
    for (let i = 0; i < xs.length; i++) {
        el('circle', { cx: x(xs[i]).toFixed(2), cy: y(ys[i]).toFixed(2), r: radius, class: cls,
            'data-x': xs[i], 'data-y': ys[i] }, g);
    }
    return g;
}

export function legend(f, items, { x = 8, y = 8 } = {})
{
    const g = el('g', { class: 'legend', transform: `translate(${x},${y})` }, f.over);
    const h = 14;
    el('rect', { x: -4, y: -4, width: 150, height: items.length * h + 4, fill: '#fffdf8', opacity: 0.85, rx: 3 }, g);
    items.forEach((it, k) => {
        const yy = k * h + 5;
        if (it.dot) el('circle', { cx: 6, cy: yy, r: 3.5, fill: it.color }, g);
        else el('line', { x1: 0, x2: 14, y1: yy, y2: yy, stroke: it.color, 'stroke-width': 2.2,
            'stroke-dasharray': it.dash || null }, g);
        el('text', { x: 20, y: yy + 3.5, style: 'font-size:10px' }, g, it.label);
    });
    return g;
}

// --- loss surfaces -------------------------------------------------------------------------------

// Light, colour-blind-safe ramp (pale yellow to steel blue, cividis-like): low loss is light so the
// marks drawn on top stay visible.
const RAMP = ['#fffbe6', '#f6ecb0', '#dcd996', '#b3c199', '#88a8a4', '#6a8fae', '#4f74a6', '#3a5a8f'];

export function ramp(t)
{
    const u = Math.max(0, Math.min(1, t)) * (RAMP.length - 1);
    const k = Math.min(RAMP.length - 2, Math.floor(u)), f = u - k;
    const c0 = parseInt(RAMP[k].slice(1), 16), c1 = parseInt(RAMP[k + 1].slice(1), 16);
    const ch = (s) => Math.round(((c0 >> s) & 255) * (1 - f) + ((c1 >> s) & 255) * f);
    return `rgb(${ch(16)},${ch(8)},${ch(0)})`;
}

// Contour levels spaced evenly in sqrt(loss): a quadratic bowl gets evenly spaced ellipses.
export function levels(lo, hi, count = 12)
{
    const out = [];
    const a = Math.sqrt(Math.max(0, lo)), b = Math.sqrt(hi);
    for (let k = 1; k <= count; k++) {
        const s = a + ((b - a) * k) / (count + 1);
        out.push(Number((s * s).toPrecision(2)));
    }
    return [...new Set(out)].filter((v) => v > lo && v < hi);
}

const contourCache = new WeakMap();
let bandsCounter = 0;
let defsHost = null;

function sharedDefs()
{
    if (!defsHost || !defsHost.isConnected) {
        const svg = el('svg', { width: 0, height: 0, 'aria-hidden': 'true', focusable: 'false',
            style: 'position:absolute;width:0;height:0;overflow:hidden' });
        document.body.appendChild(svg);
        defsHost = el('defs', {}, svg);
    }
    return defsHost;
}

// The filled contour bands of a /surface answer, computed once per answer.
function surfaceContours(surface)
{
    let c = contourCache.get(surface);
    if (c) return c;
    const nb = surface.b.length, nw = surface.w.length;
    const values = new Float64Array(nb * nw);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < nw; i++) {
        const row = surface.loss[i];
        for (let j = 0; j < nb; j++) {
            const v = row[j] === null ? Infinity : row[j];
            if (v < lo) lo = v;
            if (v > hi && Number.isFinite(v)) hi = v;
            values[i * nb + j] = v;
        }
    }
    const lv = levels(lo, hi);
    const polys = d3.contours().size([nb, nw]).thresholds(lv)(values);
    c = { lo, hi, levels: lv, polys };
    contourCache.set(surface, c);
    return c;
}

// d3-contour puts sample j at grid coordinate j + 0.5.
function gridPath(geometry, surface, x, y)
{
    const b = surface.b, w = surface.w;
    const db = (b[b.length - 1] - b[0]) / (b.length - 1), dw = (w[w.length - 1] - w[0]) / (w.length - 1);
    let d = '';
    for (const polygon of geometry.coordinates) {
        for (const ring of polygon) {
            ring.forEach(([cx, cy], k) => {
                const px = x(b[0] + (cx - 0.5) * db), py = y(w[0] + (cy - 0.5) * dw);
                d += `${k ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`;
            });
            d += 'Z';
        }
    }
    return d;
}

// A contour plot of a /surface answer with a colour key; returns the frame and its b, w scales.
// `view` {b: [lo, hi], w: [lo, hi]} zooms onto part of the grid.
export function contourPlot(container, surface, label, { minimum = true, key = true, view = null } = {})
{
    const f = frame(container, SIZES.square, label);
    const b = surface.b, w = surface.w;
    const x = linear(view ? view.b : [b[0], b[b.length - 1]], [0, f.w]);
    const y = linear(view ? view.w : [w[0], w[w.length - 1]], [f.h, 0]);
    const c = surfaceContours(surface);
    const color = (k) => ramp(k / Math.max(1, c.levels.length));
    f.svg.setAttribute('data-loss-min', c.lo);
    f.svg.setAttribute('data-loss-max', c.hi);
    f.svg.setAttribute('data-b-min', b[0]);
    f.svg.setAttribute('data-b-max', b[b.length - 1]);
    f.svg.setAttribute('data-w-min', w[0]);
    f.svg.setAttribute('data-w-max', w[w.length - 1]);
    f.svg.setAttribute('data-levels', c.levels.join(','));
    el('rect', { x: 0, y: 0, width: f.w, height: f.h, fill: color(0) }, f.plot);
    const bands = (parent, id) => {
        const g = el('g', { class: 'bands', id }, parent);
        c.polys.forEach((geom, k) => {
            if (geom.coordinates.length) {
                el('path', { class: 'band', d: gridPath(geom, surface, x, y), fill: color(k + 1),
                    stroke: 'rgb(40 40 40 / 35%)', 'stroke-width': 0.6, 'data-level': geom.value }, g);
            }
        });
    };
    if (view) {
        bands(f.plot, null);
    } else {
        // Every whole-grid panel of a surface shows the same bands: their paths are built, parsed
        // and kept once, in a shared <defs>, and each panel shows them with a <use>.
        if (!c.id) {
            c.id = `bands${++bandsCounter}`;
            bands(sharedDefs(), c.id);
        }
        el('use', { href: `#${c.id}`, class: 'bands-use' }, f.plot);
    }
    axes(f, x, y, { xTitle: 'b', yTitle: 'w', grid: false });
    if (key) {
        const kg = el('g', { class: 'legend', transform: `translate(${f.w + 8},0)` }, f.over);
        const n = c.levels.length, hh = f.h / (n + 1);
        for (let k = 0; k <= n; k++) {
            const yy = f.h - (k + 1) * hh;
            el('rect', { x: 0, y: yy, width: 10, height: hh, fill: color(k), stroke: '#888', 'stroke-width': 0.3 }, kg);
            if (k < n) {
                el('text', { x: 13, y: yy + 3, 'data-level': c.levels[k] }, kg, fmt(c.levels[k], 2));
            }
        }
        el('text', { x: 0, y: f.h + 15, style: 'font-size:9px' }, kg, 'loss');
    }
    if (minimum && surface.grid_min) {
        const m = surface.grid_min;
        const s = 5;
        const d = `M${x(m.b) - s},${y(m.w) - s}L${x(m.b) + s},${y(m.w) + s}M${x(m.b) - s},${y(m.w) + s}L${x(m.b) + s},${y(m.w) - s}`;
        el('path', { class: 'minimum-halo', d }, f.plot);
        el('path', { class: 'minimum', d, 'data-b': m.b, 'data-w': m.w, 'data-loss': m.loss }, f.plot);
    }
    return { f, x, y };
}

export function marker(f, x, y, b, w, cls = 'start', r = 5)
{
    return el('circle', { class: cls, cx: clampPx(x(b)), cy: clampPx(y(w)), r, 'data-b': b, 'data-w': w }, f.over);
}

// --- maps over a grid that is not (b, w) ------------------------------------------------------------

// Filled bands of a 2-D grid (rows[i][j], i along y, j along x) at the given thresholds, drawn into
// `parent`: band k covers the cells whose value is at least thresholds[k]. gx and gy map a fractional
// column and row index to pixels, so the grid may be evenly spaced on a log axis.
export function gridBands(parent, rows, thresholds, colorOf, gx, gy)
{
    const ny = rows.length, nx = rows[0].length;
    const values = new Float64Array(nx * ny);
    for (let i = 0; i < ny; i++) {
        for (let j = 0; j < nx; j++) {
            const v = rows[i][j];
            values[i * nx + j] = v === null || !Number.isFinite(v) ? Infinity : v;
        }
    }
    const polys = d3.contours().size([nx, ny]).thresholds(thresholds)(values);
    const g = el('g', { class: 'bands' }, parent);
    polys.forEach((geom, k) => {
        if (!geom.coordinates.length) return;
        let d = '';
        for (const polygon of geom.coordinates) {
            for (const ring of polygon) {
                ring.forEach(([cx, cy], m) => {
                    d += `${m ? 'L' : 'M'}${gx(cx - 0.5).toFixed(1)},${gy(cy - 0.5).toFixed(1)}`;
                });
                d += 'Z';
            }
        }
        el('path', { class: 'band', d, fill: colorOf(k), stroke: 'rgb(40 40 40 / 30%)', 'stroke-width': 0.5,
            'data-level': geom.value }, g);
    });
    return g;
}
