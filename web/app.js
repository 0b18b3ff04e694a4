// gdlab's tutorial page: reads its state from the address, asks the API for every number and draws
// the seven sections of the tutorial, and an eighth beyond it, from the answers.
import {
    OKABE_ITO, SIZES, axes, contourPlot, el, fmt, fmt2, frame, gridBands, legend, linear, log10, marker, pad,
    polyline, ramp, scatter,
} from './plot.js';
import {
    DEFAULTS, FIELDS, MAP_BETA_MAX, MINIBATCH_EPOCHS, MISSING, RACE, requests, requests8, same, stateFromHash,
    writeHash,
} from './state.js';

// --- helpers for the page -------------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);
const plotBox = (name) => $(`[data-plot="${name}"]`);

function bind(name, text, value)
{
    for (const node of document.querySelectorAll(`[data-bind="${name}"]`)) {
        node.textContent = text;
        if (value !== undefined) node.dataset.value = value;
    }
}

function bindHTML(name, html)
{
    for (const node of document.querySelectorAll(`[data-bind="${name}"]`)) node.innerHTML = html;
}

const lambdas = (a) => [Math.min(...a.hessian_eigenvalues), Math.max(...a.hessian_eigenvalues)];

function statusText(run)
{
    if (run.status === 'diverged') return 'diverged';
    if (run.status === 'converged') return 'converged';
    return 'descended';
}

// --- section 1: the data ---------------------------------------------------------------------------

function drawData(ds)
{
    const all = [...ds.train.x, ...ds.val.x], ally = [...ds.train.y, ...ds.val.y];
    const xd = pad(Math.min(...all), Math.max(...all)), yd = pad(Math.min(...ally), Math.max(...ally));
    for (const [split, cls, name] of [['train', 'pt-train', 'Training'], ['val', 'pt-val', 'Validation']]) {
        const box = plotBox(`scatter-${split}`);
        const f = frame(box, SIZES.chart, `${name} set: y against x, ${ds[split].x.length} points`);
        const x = linear(xd, [0, f.w]), y = linear(yd, [f.h, 0]);
        axes(f, x, y, { xTitle: 'x', yTitle: 'y' });
        scatter(f, ds[split].x, ds[split].y, x, y, cls);
        f.svg.dataset.count = ds[split].x.length;
    }
    bind('n_train', ds.train.x.length);
    bind('n_val', ds.val.x.length);
    bind('opt_b', fmt(ds.optimum.b, 4), ds.optimum.b);
    bind('opt_w', fmt(ds.optimum.w, 4), ds.optimum.w);
    bind('noise', String(ds.params.noise));
    bind('true_b', String(ds.params.true_b));
    bind('true_w', String(ds.params.true_w));
}

// --- section 2: the random start -------------------------------------------------------------------

function drawStart(ds, step)
{
    const h = step.runs[0].history;
    const b0 = h.b[0], w0 = h.w[0], loss0 = h.train_loss[0];
    bind('b0', fmt(b0, 4), b0);
    bind('w0', fmt(w0, 4), w0);
    bind('loss0', fmt2(loss0), loss0);
    const xs = ds.train.x, ys = ds.train.y;
    const preds = xs.map((v) => b0 + w0 * v);
    const f = frame(plotBox('start'), SIZES.wide,
        `Training points and the predictions of b = ${fmt2(b0)}, w = ${fmt2(w0)}; loss ${fmt2(loss0)}`);
    const xd = pad(Math.min(...xs), Math.max(...xs));
    const yd = pad(Math.min(...ys, ...preds), Math.max(...ys, ...preds));
    const x = linear(xd, [0, f.w]), y = linear(yd, [f.h, 0]);
    axes(f, x, y, { xTitle: 'x', yTitle: 'y' });
    const res = el('g', {}, f.plot);
    xs.forEach((v, i) => el('line', { class: 'residual', x1: x(v), x2: x(v), y1: y(ys[i]), y2: y(preds[i]) }, res));
    scatter(f, xs, ys, x, y, 'pt-train');
    el('line', { class: 'pred-line', x1: x(xd[0]), x2: x(xd[1]), y1: y(b0 + w0 * xd[0]), y2: y(b0 + w0 * xd[1]),
        'data-b': b0, 'data-w': w0, 'data-loss': loss0 }, f.plot);
    legend(f, [{ color: '#0072b2', label: 'training points', dot: true },
        { color: '#d55e00', label: `ŷ = ${fmt(b0, 3)} ${w0 < 0 ? '−' : '+'} ${fmt(Math.abs(w0), 3)}·x` }]);
}

// --- section 3: the loss surface ---------------------------------------------------------------------

function drawSurface(surface, step)
{
    const h = step.runs[0].history;
    const { f, x, y } = contourPlot(plotBox('surface'), surface, 'Contour plot of the training loss over b and w');
    marker(f, x, y, h.b[0], h.w[0]);
    const m = surface.grid_min;
    bind('gmin', `b = ${fmt2(m.b)}, w = ${fmt2(m.w)}, loss ${fmt(m.loss, 3)}`, m.loss);
}

// --- section 4: cross-sections ------------------------------------------------------------------------

function section(cs, fixed)
{
    return cs.sections.find((s) => s.fixed === fixed);
}

function drawCrossSection(box, cs, sec, { zoom = false } = {})
{
    const g = sec.geometric, p = cs.point;
    const vary = sec.varying, fixed = sec.fixed;
    const cls = vary === 'w' ? 'curve-w' : 'curve-b';
    let pts = sec.values.map((v, i) => [v, sec.loss[i]]);
    let xd = [sec.values[0], sec.values[sec.values.length - 1]];
    const l0 = p.loss, l1 = p.loss + g.delta_loss;
    if (zoom) {
        const d = Math.abs(g.delta_param) || 0.1;
        xd = [Math.min(g.from, g.to) - 2.5 * d, Math.max(g.from, g.to) + 2.5 * d];
        pts = pts.filter(([v]) => v >= xd[0] - d && v <= xd[1] + d);
    }
    const label = zoom
        ? `Geometric gradient along ${vary}: loss changes by ${fmt2(g.delta_loss)} over ${fmt2(g.delta_param)}, ratio ${fmt2(g.gradient)}; analytic ${fmt2(sec.gradient)}`
        : `Loss as ${vary} varies with ${fixed} fixed at ${fmt2(sec.fixed_value)}`;
    const f = frame(box, SIZES.chart, label);
    const tan = (v) => l0 + sec.gradient * (v - g.from);
    const ys = pts.map(([, l]) => l).filter(Number.isFinite);
    if (zoom) ys.push(tan(xd[0]), tan(xd[1]), l1);
    const x = linear(xd, [0, f.w]), y = linear(pad(Math.min(...ys), Math.max(...ys)), [f.h, 0]);
    axes(f, x, y, { xTitle: `${vary} (${fixed} fixed at ${fmt2(sec.fixed_value)})`, yTitle: 'loss' });
    f.svg.dataset.fixed = fixed;
    f.svg.dataset.varying = vary;
    f.svg.dataset.fixedValue = sec.fixed_value;
    el('path', { class: cls, d: polyline(pts, x, y) }, f.plot);
    // The analytic gradient: the tangent's slope through the point.
    el('line', { class: 'tangent', x1: x(xd[0]), x2: x(xd[1]), y1: y(tan(xd[0])), y2: y(tan(xd[1])),
        'data-gradient': sec.gradient }, f.plot);
    // The geometric one: the triangle over one step of the grid.
    el('path', { class: 'geo', d: `M${x(g.from)},${y(l0)}L${x(g.to)},${y(l0)}L${x(g.to)},${y(l1)}`,
        'data-delta-param': g.delta_param, 'data-delta-loss': g.delta_loss, 'data-gradient': g.gradient }, f.plot);
    el('circle', { class: 'start', cx: x(g.from), cy: y(l0), r: 4.5, 'data-value': g.from, 'data-loss': l0 }, f.over);
    el('circle', { class: 'geo-pt', cx: x(g.to), cy: y(l1), r: 3.5, 'data-value': g.to, 'data-loss': l1 }, f.over);
    if (zoom) {
        el('text', { x: (x(g.from) + x(g.to)) / 2, y: y(l0) - 6, 'text-anchor': 'middle' }, f.over,
            `Δ${vary} = ${fmt2(g.delta_param)}`);
        el('text', { x: x(g.to) + 6, y: (y(l0) + y(l1)) / 2, 'text-anchor': 'start' }, f.over,
            `Δloss = ${fmt2(g.delta_loss)}`);
    }
    legend(f, [{ color: vary === 'w' ? '#d55e00' : '#000', label: `loss, ${fixed} fixed` },
        { color: '#009e73', label: `geometric ${fmt2(g.gradient)}` },
        { color: '#0072b2', label: `analytic ${fmt2(sec.gradient)}`, dash: '5 3' }], { x: f.w - 150, y: 8 });
}

function drawCuts(surface, cs)
{
    const { f, x, y } = contourPlot(plotBox('cuts'), surface, 'The two cuts through the loss surface', { key: false });
    const sb = section(cs, 'b'), sw = section(cs, 'w');
    el('line', { class: 'cut-b', x1: x(sb.fixed_value), x2: x(sb.fixed_value), y1: 0, y2: f.h, 'data-b': sb.fixed_value }, f.plot);
    el('line', { class: 'cut-w', x1: 0, x2: f.w, y1: y(sw.fixed_value), y2: y(sw.fixed_value), 'data-w': sw.fixed_value }, f.plot);
    marker(f, x, y, cs.point.b, cs.point.w);
}

function drawGradients(surface, cs)
{
    drawCuts(surface, cs);
    const sb = section(cs, 'b'), sw = section(cs, 'w');
    drawCrossSection(plotBox('cs-w'), cs, sb);
    drawCrossSection(plotBox('cs-b'), cs, sw);
    drawCrossSection(plotBox('cs-w-zoom'), cs, sb, { zoom: true });
    drawCrossSection(plotBox('cs-b-zoom'), cs, sw, { zoom: true });
    bindHTML('cs_w_caption', `<var>b</var> fixed at ${fmt2(sb.fixed_value)}, <var>w</var> varies`);
    bindHTML('cs_b_caption', `<var>w</var> fixed at ${fmt2(sw.fixed_value)}, <var>b</var> varies`);
    const body = $('#grad-table tbody');
    body.replaceChildren();
    for (const s of [sb, sw]) {
        const tr = document.createElement('tr');
        tr.dataset.varying = s.varying;
        tr.innerHTML = `<th scope="row"><var>${s.varying}</var> varies (${s.fixed} fixed)</th>`;
        for (const [v, key] of [[s.geometric.delta_param, 'delta_param'], [s.geometric.delta_loss, 'delta_loss'],
            [s.geometric.gradient, 'geometric'], [s.gradient, 'analytic']]) {
            const td = document.createElement('td');
            td.textContent = fmt2(v);
            td.dataset.value = v;
            td.dataset.key = key;
            tr.appendChild(td);
        }
        body.appendChild(tr);
    }
}

// --- section 5: learning rates ---------------------------------------------------------------------

function drawPath(f, x, y, run, color)
{
    const h = run.history;
    const pts = h.b.map((b, i) => [b, h.w[i]]);
    const d = polyline(pts, x, y);
    el('path', { class: 'path-halo', d }, f.plot);
    el('path', { class: 'path', d, stroke: color, 'data-lr': run.lr, 'data-status': run.status,
        'data-optimizer': run.optimizer }, f.plot);
    // A dot per step while the steps can be told apart; a long run's line speaks for itself.
    if (pts.length <= 61) {
        const dots = el('g', {}, f.plot);
        pts.forEach(([b, w], i) => {
            if (i > 0 && Number.isFinite(b) && Number.isFinite(w) && Math.abs(x(b)) < 1e4 && Math.abs(y(w)) < 1e4) {
                el('circle', { cx: x(b).toFixed(1), cy: y(w).toFixed(1), r: 1.8, fill: color }, dots);
            }
        });
    }
    const fin = run.final;
    if (Number.isFinite(fin.b) && Number.isFinite(fin.w)) {
        el('circle', { class: 'final', cx: x(fin.b), cy: y(fin.w), r: 3.5, fill: color, stroke: '#000',
            'data-b': fin.b, 'data-w': fin.w }, f.plot);
    }
    marker(f, x, y, h.b[0], h.w[0], 'start', 4.5);
}

// Loss per epoch on a log scale; a diverging run leaves through the top, its epoch marked.
// `minimum`: draw the loss above it (how far from done, a straight line for a steady rate) instead
// of the loss; `val`: the validation loss too; `items`: the legend.
function drawLoss(box, runs, colors, label, { minimum = null, val = true, items = null } = {})
{
    const f = frame(box, SIZES.square, label);
    const shift = (v) => (v === null || minimum === null ? v : v - minimum);
    let lo = Infinity, hi = 0, start = 0, last = 1;
    for (const run of runs) {
        const h = run.history;
        start = Math.max(start, shift(h.train_loss[0]));
        last = Math.max(last, h.epoch[h.epoch.length - 1], run.epochs_run);
        for (const v of [...h.train_loss, ...(val ? h.val_loss : [])].map(shift)) {
            if (v !== null && Number.isFinite(v) && v > 0) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
    }
    if (!Number.isFinite(lo)) lo = 1e-3;
    hi = Math.min(Math.max(hi, start), start * 1e4);
    lo = Math.max(lo, hi * 1e-12); // rounding leaves a converged run's excess anywhere below that
    const yd = [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
    if (yd[0] === yd[1]) yd[1] *= 10;
    const x = linear([0, last], [0, f.w]), y = log10(yd, [f.h, 0]);
    axes(f, x, y, { xTitle: 'epoch', yTitle: minimum === null ? 'loss (log scale)' : 'loss − minimum (log scale)', yTicks: 6 });
    // Above a minimum, a run that reaches it (to rounding) runs along the bottom edge rather than off it.
    const floor = minimum === null ? yd[0] / 10 : yd[0];
    const clampY = (v) => (v === null || !Number.isFinite(v) || v > yd[1] * 1e3 ? yd[1] * 1e3 : Math.max(v, floor));
    runs.forEach((run, k) => {
        const h = run.history;
        const cut = h.train_loss.findIndex((v) => v === null || !Number.isFinite(v));
        const end = cut < 0 ? h.epoch.length : cut + 1;
        const tr = h.epoch.slice(0, end).map((e, i) => [e, clampY(shift(h.train_loss[i]))]);
        const va = h.epoch.slice(0, end).map((e, i) => [e, clampY(shift(h.val_loss[i]))]);
        if (val) el('path', { class: 'loss-val', d: polyline(va, x, y), stroke: colors[k] }, f.plot);
        el('path', { class: 'loss-train', d: polyline(tr, x, y), stroke: colors[k], 'data-lr': run.lr,
            'data-status': run.status, 'data-first': h.train_loss[0], 'data-last': run.final.train_loss,
            'data-optimizer': run.optimizer, 'data-batch': run.batch }, f.plot);
        if (run.status === 'diverged' && run.diverged_at >= 0) {
            const xe = x(Math.min(run.diverged_at, last));
            el('line', { class: 'crit-line', x1: xe, x2: xe, y1: 0, y2: f.h, opacity: 0.5 }, f.plot);
            el('text', { class: 'diverged-mark', x: Math.min(xe + 4, f.w - 4), y: 14 + 13 * k,
                'text-anchor': xe > f.w * 0.6 ? 'end' : 'start', 'data-epoch': run.diverged_at }, f.over,
            `diverged at epoch ${run.diverged_at}`);
        }
    });
    const keys = items || [{ color: '#444', label: 'training loss' }, { color: '#444', label: 'validation loss', dash: '5 3' }];
    legend(f, keys, { x: f.w - 150, y: f.h - 8 - 14 * keys.length });
    return { f, x, y };
}

function placeMarks(analysis)
{
    const slider = $('#lr');
    const min = Number(slider.min);
    const max = Math.max(2, Math.ceil(analysis.lr_critical * 2.5 * 10) / 10);
    slider.max = String(max);
    const at = (v) => `${(100 * (Math.min(max, v) - min)) / (max - min)}%`;
    const crit = $('#lr-crit-mark'), opt = $('#lr-opt-mark');
    crit.style.left = at(analysis.lr_critical);
    opt.style.left = at(analysis.lr_optimal);
    crit.dataset.lrCritical = analysis.lr_critical;
    opt.dataset.lrOptimal = analysis.lr_optimal;
    crit.firstElementChild.textContent = `critical ${fmt(analysis.lr_critical, 4)}`;
    opt.firstElementChild.textContent = `optimal ${fmt(analysis.lr_optimal, 3)}`;
    $('.lr-track').style.setProperty('--crit', at(analysis.lr_critical));
    bind('lr_critical', fmt(analysis.lr_critical, 4), analysis.lr_critical);
    bind('lr_optimal', fmt(analysis.lr_optimal, 4), analysis.lr_optimal);
}

function drawStep(surface, cs, step, state)
{
    const run = step.runs[0], h = run.history;
    const b0 = h.b[0], w0 = h.w[0], b1 = h.b[1], w1 = h.w[1];
    // Zoom onto the step when it is short enough to be lost on the whole surface.
    const reach = Math.max(Math.abs(b1 - b0), Math.abs(w1 - w0));
    const view = Number.isFinite(reach) && reach < 1
        ? { b: [(b0 + b1) / 2 - reach - 0.25, (b0 + b1) / 2 + reach + 0.25], w: [(w0 + w1) / 2 - reach - 0.25, (w0 + w1) / 2 + reach + 0.25] }
        : null;
    const { f, x, y } = contourPlot(plotBox('step'), surface, `One update step with learning rate ${state.lr}`, { key: false, view });
    const defs = f.svg.querySelector('defs');
    const head = el('marker', { id: 'arrowhead', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
        orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0L10,5L0,10z', fill: '#000' }, head);
    if ([b1, w1].every(Number.isFinite)) {
        el('line', { class: 'step-arrow', x1: x(b0), y1: y(w0), x2: x(b1), y2: y(w1), 'marker-end': 'url(#arrowhead)',
            'data-b': b1, 'data-w': w1 }, f.over);
    }
    marker(f, x, y, b0, w0);
    const sb = section(cs, 'b'), sw = section(cs, 'w');
    bind('step_from', `${fmt(b0, 3)}, ${fmt(w0, 3)}`);
    bind('step_to', `${fmt(b1, 3)}, ${fmt(w1, 3)}`);
    $('#step-eq').innerHTML =
        `<var>b</var> = ${fmt(b0, 4)} − ${state.lr} × (${fmt(sw.gradient, 4)}) = <strong data-value="${b1}">${fmt(b1, 4)}</strong>; ` +
        `<var>w</var> = ${fmt(w0, 4)} − ${state.lr} × (${fmt(sb.gradient, 4)}) = <strong data-value="${w1}">${fmt(w1, 4)}</strong>`;
}

function drawEta(surface, eta, state)
{
    const run = eta.runs[0], a = eta.analysis;
    const { f, x, y } = contourPlot(plotBox('eta-path'), surface, `Gradient-descent path with learning rate ${state.lr}`, { key: false });
    drawPath(f, x, y, run, '#0072b2');
    drawLoss(plotBox('eta-loss'), [run], ['#0072b2'], `Loss per epoch with learning rate ${state.lr}: ${run.status}`);
    const badge = $('#eta-status');
    badge.textContent = statusText(run);
    badge.className = `badge ${run.status}`;
    badge.dataset.status = run.status;
    badge.dataset.lr = run.lr;
    const [lmin, lmax] = lambdas(a);
    const fast = Math.abs(1 - run.lr * lmax), slow = Math.abs(1 - run.lr * lmin);
    const rel = run.lr > a.lr_critical ? '>' : run.lr < a.lr_critical ? '<' : '=';
    let text = `η = ${run.lr} ${rel} 2/λmax = ${fmt(a.lr_critical, 4)}. Along the steepest direction each step ` +
        `multiplies the distance to the minimum by |1 − ηλmax| = ${fmt(fast, 3)}; along the flattest by |1 − ηλmin| = ${fmt(slow, 3)}. `;
    if (run.status === 'diverged') text += `The run diverged (loss above its start from epoch ${run.diverged_at}).`;
    else text += `After ${run.epochs_run} epochs the loss is ${fmt(run.final.train_loss, 4)} (the minimum is ${fmt(a.optimum.loss, 4)}).`;
    $('#eta-explain').textContent = text;
}

function drawPanels(surface, lrs, state)
{
    const host = $('#lr-panels');
    host.replaceChildren();
    lrs.runs.forEach((run, k) => {
        const color = OKABE_ITO[k % OKABE_ITO.length];
        const fig = document.createElement('figure');
        fig.className = 'lr-panel';
        fig.dataset.lr = run.lr;
        fig.dataset.status = run.status;
        const kind = run.lr > lrs.analysis.lr_critical ? 'past the critical rate' : run.lr > lrs.analysis.lr_optimal ? 'big' : 'small';
        fig.innerHTML = `<div class="panel-head"><h4>η = ${run.lr} <small>(${kind})</small></h4>` +
            `<output class="badge ${run.status}" data-status="${run.status}">${statusText(run)}</output></div>` +
            `<div class="plot square" data-plot="lr-path-${k}"></div><div class="plot square" data-plot="lr-loss-${k}"></div>` +
            `<figcaption>Path and loss per epoch, ${state.epochs} epochs</figcaption>`;
        host.appendChild(fig);
        const { f, x, y } = contourPlot(plotBox(`lr-path-${k}`), surface, `Path with learning rate ${run.lr}`, { key: false });
        drawPath(f, x, y, run, color);
        drawLoss(plotBox(`lr-loss-${k}`), [run], [color], `Loss per epoch with learning rate ${run.lr}: ${run.status}`);
    });
}

// --- sections 6 and 7: the bad feature and standardization ---------------------------------------------

function drawOverlay(box, cs, label)
{
    const f = frame(box, SIZES.chart, label);
    const sb = section(cs, 'b'), sw = section(cs, 'w');
    const all = [...sb.values, ...sw.values], losses = [...sb.loss, ...sw.loss].filter(Number.isFinite);
    const x = linear([Math.min(...all), Math.max(...all)], [0, f.w]);
    const y = linear(pad(0, Math.max(...losses)), [f.h, 0]);
    axes(f, x, y, { xTitle: 'value of the parameter that varies', yTitle: 'loss' });
    el('path', { class: 'curve-w', d: polyline(sb.values.map((v, i) => [v, sb.loss[i]]), x, y), 'data-gradient': sb.gradient }, f.plot);
    el('path', { class: 'curve-b', d: polyline(sw.values.map((v, i) => [v, sw.loss[i]]), x, y), 'data-gradient': sw.gradient }, f.plot);
    el('circle', { class: 'start', cx: x(sb.geometric.from), cy: y(cs.point.loss), r: 4 }, f.over);
    el('circle', { class: 'start', cx: x(sw.geometric.from), cy: y(cs.point.loss), r: 4 }, f.over);
    f.svg.dataset.gradW = sb.gradient;
    f.svg.dataset.gradB = sw.gradient;
    legend(f, [{ color: '#d55e00', label: `w varies: ∂L/∂w ${fmt2(sb.gradient)}` },
        { color: '#000', label: `b varies: ∂L/∂b ${fmt2(sw.gradient)}` }], { x: f.w - 150, y: 8 });
}

// The critical learning rates on one log axis, with the rates the reader compares.
function drawRates(rows, marks)
{
    const f = frame(plotBox('bad-lr'), SIZES.strip, 'Critical learning rates on a log scale');
    const vals = [...rows.map((r) => r.value), ...marks];
    const x = log10([10 ** Math.floor(Math.log10(Math.min(...vals)) - 0.3), 10 ** Math.ceil(Math.log10(Math.max(...vals)) + 0.3)], [0, f.w]);
    const band = f.h / rows.length;
    axes(f, x, linear([0, 1], [f.h, 0]), { xTitle: 'learning rate η (log scale)', grid: false, yTicks: 0 });
    f.under.querySelectorAll('.axis text[text-anchor=end]').forEach((t) => t.remove());
    rows.forEach((r, k) => {
        const yy = k * band + band * 0.2, hh = band * 0.6;
        el('rect', { x: 0, y: yy, width: x(r.value), height: hh, fill: '#009e73', opacity: 0.75 }, f.plot);
        el('rect', { x: x(r.value), y: yy, width: f.w - x(r.value), height: hh, fill: '#d55e00', opacity: 0.3 }, f.plot);
        el('line', { class: 'crit-line', x1: x(r.value), x2: x(r.value), y1: yy - 2, y2: yy + hh + 2, 'data-lr-critical': r.value }, f.plot);
        el('text', { x: -8, y: yy + hh / 2 + 4, 'text-anchor': 'end' }, f.over, `${r.label}: ${fmt(r.value, 3)}`);
    });
    for (const m of marks) {
        el('line', { x1: x(m), x2: x(m), y1: 0, y2: f.h, stroke: '#000', 'stroke-dasharray': '2 2' }, f.over);
        el('text', { x: x(m), y: -1, 'text-anchor': 'middle', style: 'font-size:9px' }, f.over, String(m));
    }
}

function drawBad(surface, cross, badSurface, badCross, step, scale, state)
{
    const b0 = step.runs[0].history.b[0], w0 = step.runs[0].history.w[0];
    let p = contourPlot(plotBox('bad-before'), surface, 'Loss surface, x as generated');
    marker(p.f, p.x, p.y, b0, w0);
    p = contourPlot(plotBox('bad-after'), badSurface, `Loss surface, x multiplied by ${state.multiplier}`);
    marker(p.f, p.x, p.y, b0, w0);
    drawOverlay(plotBox('bad-cs-before'), cross, 'Cross-sections, x as generated');
    drawOverlay(plotBox('bad-cs-after'), badCross, `Cross-sections, x multiplied by ${state.multiplier}`);
    drawRates([{ label: 'x as generated', value: step.analysis.lr_critical },
        { label: `x × ${state.multiplier}`, value: scale.before.lr_critical }], state.lrs);
}

function drawScaled(surface, badSurface, scaledSurface, step, scale, state)
{
    contourPlot(plotBox('std-orig'), surface, 'Loss surface, x as generated');
    contourPlot(plotBox('std-bad'), badSurface, `Loss surface, x multiplied by ${state.multiplier}`);
    contourPlot(plotBox('std-scaled'), scaledSurface, `Loss surface, x multiplied by ${state.multiplier} then ${state.scaler} scaler`);
    const after = state.scaler === 'none' ? scale.before : scale.after;
    const cols = [step.analysis, scale.before, after];
    const rows = [
        ['condition number λmax/λmin', (a) => a.condition_number],
        ['λmin', (a) => lambdas(a)[0]],
        ['λmax', (a) => lambdas(a)[1]],
        ['critical rate 2/λmax', (a) => a.lr_critical],
        ['optimal rate 2/(λmin+λmax)', (a) => a.lr_optimal],
        ['optimum b', (a) => a.optimum.b],
        ['optimum w', (a) => a.optimum.w],
    ];
    const body = $('#scale-table tbody');
    body.replaceChildren();
    for (const [name, get] of rows) {
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = name;
        tr.appendChild(th);
        cols.forEach((a, k) => {
            const td = document.createElement('td');
            td.textContent = fmt(get(a), 4);
            td.dataset.value = get(a);
            td.dataset.col = ['generated', 'multiplied', 'scaled'][k];
            tr.appendChild(td);
        });
        body.appendChild(tr);
    }
}

// --- section 8: beyond plain gradient descent ---------------------------------------------------------

const OPT = {
    gd: { name: 'gradient descent', color: '#0072b2' },
    momentum: { name: 'momentum', color: '#d55e00' },
    nesterov: { name: 'Nesterov', color: '#009e73' },
    adam: { name: 'Adam', color: '#cc79a7' },
};

// The epoch from which on a run's loss stays within `frac` of the way from its start to the minimum
// (momentum can pass through the minimum and leave it again), or null.
function epochsTo(run, minimum, frac = 1e-4)
{
    const h = run.history, start = h.train_loss[0] - minimum;
    const out = (v) => v === null || !(v - minimum <= frac * start);
    let k = h.train_loss.length - 1;
    while (k >= 0 && !out(h.train_loss[k])) k--;
    return k + 1 < h.train_loss.length ? h.epoch[k + 1] : null;
}

// A square close-up of (b, w) around some runs' paths, in round numbers, or null (the whole grid)
// when they leave it.
function pathView(runs, surface)
{
    const pts = runs.flatMap((r) => r.history.b.map((b, i) => [b, r.history.w[i]]))
        .filter(([b, w]) => Number.isFinite(b) && Number.isFinite(w));
    const bs = pts.map(([b]) => b), ws = pts.map(([, w]) => w);
    const [b0, b1, w0, w1] = [Math.min(...bs), Math.max(...bs), Math.min(...ws), Math.max(...ws)];
    const half = Math.max(b1 - b0, w1 - w0, 0.2) * 0.56;
    const full = Math.min(surface.b[surface.b.length - 1] - surface.b[0], surface.w[surface.w.length - 1] - surface.w[0]) / 2;
    if (!(half < full * 0.8)) return null;
    const cb = (b0 + b1) / 2, cw = (w0 + w1) / 2;
    const down = (v) => Number((Math.floor(v * 100) / 100).toFixed(2)), up = (v) => Number((Math.ceil(v * 100) / 100).toFixed(2));
    return { b: [down(cb - half), up(cb + half)], w: [down(cw - half), up(cw + half)] };
}

// Does a surface's grid hold every point of a run's path?
function holds(surface, run)
{
    const [b0, b1, w0, w1] = [surface.b[0], surface.b[surface.b.length - 1], surface.w[0], surface.w[surface.w.length - 1]];
    return run.history.b.every((b, i) => b >= b0 && b <= b1 && run.history.w[i] >= w0 && run.history.w[i] <= w1);
}

function featureLabel(state)
{
    const scaler = state.scaler === 'none' ? 'standard' : state.scaler;
    return state.feature === 'scaled' ? `x × ${state.multiplier}, ${scaler} scaler` : `x × ${state.multiplier}`;
}

function drawRace(surface, race, state)
{
    const a = race.analysis, lr = race.runs[0].lr, min = a.optimum.loss;
    bind('race_lr', fmt(lr, 4), lr);
    bind('race_min', fmt(min, 4), min);
    const { f, x, y } = contourPlot(plotBox('race-path'), surface,
        `Paths of ${race.runs.map((r) => OPT[r.optimizer].name).join(', ')} with learning rate ${fmt(lr, 4)} on ${featureLabel(state)}`);
    // Plain gradient descent last, on top: the others' first steps run over its path.
    for (const run of [...race.runs].reverse()) drawPath(f, x, y, run, OPT[run.optimizer].color);
    const items = race.runs.map((r) => ({ color: OPT[r.optimizer].color, label: OPT[r.optimizer].name }));
    drawLoss(plotBox('race-loss'), race.runs, race.runs.map((r) => OPT[r.optimizer].color),
        `Training loss above the minimum per epoch, four optimizers, learning rate ${fmt(lr, 4)}`,
        { minimum: min, val: false, items });
    const body = $('#race-table tbody');
    body.replaceChildren();
    for (const run of race.runs) {
        const tr = document.createElement('tr');
        tr.dataset.optimizer = run.optimizer;
        const fin = run.final.train_loss;
        tr.innerHTML = `<th scope="row"><span class="swatch" style="background:${OPT[run.optimizer].color}"></span>${OPT[run.optimizer].name}</th>` +
            `<td data-key="train_loss" data-value="${fin}">${fmt(fin, 4)}</td>` +
            `<td data-key="excess">${fin === null ? '∞' : fmt(fin - min, 2)}</td>` +
            `<td data-key="status"><span class="badge ${run.status}">${statusText(run)}</span></td>`;
        body.appendChild(tr);
    }
    const reach = race.runs.map((r) => [OPT[r.optimizer].name, epochsTo(r, min)]);
    const fast = reach.filter(([, e]) => e !== null).sort((p, q) => p[1] - q[1]);
    const slow = reach.filter(([, e]) => e === null).map(([n]) => n);
    let text = 'Closing 99.99% of the gap between the start’s loss and the minimum for good took ' +
        (fast.length ? fast.map(([n, e]) => `${n} ${e} epoch${e === 1 ? '' : 's'}`).join(', ') : 'every optimizer longer than this');
    if (slow.length) text += `; ${slow.join(' and ')} did not get there in ${RACE.epochs} epochs`;
    text += `. The condition number of this feature’s loss is ${fmt(a.condition_number, 3)}.`;
    $('#race-explain').textContent = text;
}

// The reader's point on the stability map, kept between redraws of the map itself.
let map = null;
const LADDER = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8];

// The next learning rate up (dir 1) or down (dir −1) on a ladder of round numbers.
function ladder(lr, dir)
{
    const e = Math.floor(Math.log10(lr));
    const steps = [];
    for (let k = e - 1; k <= e + 1; k++) for (const m of LADDER) steps.push(Number((m * 10 ** k).toPrecision(2)));
    if (dir > 0) return steps.find((v) => v > lr * (1 + 1e-9));
    return steps.reverse().find((v) => v < lr * (1 - 1e-9));
}

// Steps per e-fold, −1/ln ρ, at these levels; the band above the last is "diverges" (ρ ≥ 1).
const EFOLD = [2, 5, 10, 20, 50, 100, 200, 500];

function drawMap(stab, state)
{
    const box = plotBox('map');
    const lrs = stab.lr, betas = stab.momentum;
    const f = frame(box, SIZES.square, `Stability map of momentum over learning rate and β on ${featureLabel(state)}`);
    const x = log10([lrs[0], lrs[lrs.length - 1]], [0, f.w]);
    const y = linear([betas[0], betas[betas.length - 1]], [f.h, 0]);
    const ratio = lrs[lrs.length - 1] / lrs[0];
    const gx = (c) => x(lrs[0] * ratio ** (c / (lrs.length - 1)));
    const gy = (r) => y(betas[0] + (r * (betas[betas.length - 1] - betas[0])) / (betas.length - 1));
    const thresholds = [...EFOLD.map((k) => Math.exp(-1 / k)), 1];
    const colorOf = (k) => (k >= EFOLD.length ? '#f3c9b1' : ramp((k + 1) / EFOLD.length));
    el('rect', { x: 0, y: 0, width: f.w, height: f.h, fill: ramp(0) }, f.plot);
    gridBands(f.plot, stab.rho, thresholds, colorOf, gx, gy);
    f.svg.dataset.lrMin = lrs[0];
    f.svg.dataset.lrMax = lrs[lrs.length - 1];
    axes(f, x, y, { xTitle: 'learning rate η (log scale)', yTitle: 'momentum β', grid: false });
    // The critical rate per row: where ρ reaches 1.
    const crit = stab.lr_critical.map((v, i) => [v, betas[i]]);
    el('path', { class: 'crit-curve-halo', d: polyline(crit, x, y) }, f.plot);
    el('path', { class: 'crit-curve', d: polyline(crit, x, y), 'data-lr-critical': stab.lr_critical.join(','),
        'data-momentum': betas.join(',') }, f.plot);
    const p = stab.polyak;
    const s = 5, px = x(p.lr), py = y(p.momentum);
    const d = `M${px - s},${py - s}L${px + s},${py + s}M${px - s},${py + s}L${px + s},${py - s}`;
    el('path', { class: 'minimum-halo', d }, f.over);
    el('path', { class: 'minimum polyak', d, 'data-lr': p.lr, 'data-momentum': p.momentum, 'data-rate': p.rate }, f.over);
    el('text', { x: px - 8, y: py + 16, 'text-anchor': 'end', class: 'map-label' }, f.over, `Polyak ρ = ${fmt(p.rate, 3)}`);
    // The key: steps per e-fold.
    const kg = el('g', { class: 'legend', transform: `translate(${f.w + 8},0)` }, f.over);
    const n = EFOLD.length + 1, hh = f.h / (n + 1);
    for (let k = -1; k < n; k++) {
        const yy = f.h - (k + 2) * hh;
        el('rect', { x: 0, y: yy, width: 10, height: hh, fill: k < 0 ? ramp(0) : colorOf(k), stroke: '#888', 'stroke-width': 0.3 }, kg);
        if (k >= 0) el('text', { x: 13, y: yy + hh + 3 }, kg, k < EFOLD.length ? String(EFOLD[k]) : '∞');
    }
    el('text', { x: 13, y: f.h - (n + 1) * hh + 10, style: 'font-size:9px' }, kg, 'diverges');
    el('text', { x: 0, y: f.h + 15, style: 'font-size:9px' }, kg, 'steps');
    const point = el('g', { class: 'map-point', tabindex: 0, role: 'slider', 'aria-label': 'Your learning rate and momentum',
        'aria-describedby': 'point-explain' }, f.over);
    el('circle', { r: 11, class: 'map-point-hit' }, point);
    el('circle', { r: 6.5, class: 'map-point-dot' }, point);
    map = { f, x, y, point, stab };
    wireMapPoint();
    placePoint(state);
}

// Put the reader's point where the state says; a point outside the map sits on its edge, hollow.
function placePoint(s)
{
    if (!map) return;
    const { f, x, y, point } = map;
    const px = x(s.map_lr), py = y(s.map_beta);
    const inside = px >= 0 && px <= f.w && py >= 0 && py <= f.h;
    point.setAttribute('transform', `translate(${Math.max(0, Math.min(f.w, px)).toFixed(1)},${Math.max(0, Math.min(f.h, py)).toFixed(1)})`);
    point.classList.toggle('outside', !inside);
    point.dataset.lr = s.map_lr;
    point.dataset.momentum = s.map_beta;
    point.setAttribute('aria-valuetext', `η = ${s.map_lr}, β = ${s.map_beta}`);
    point.setAttribute('aria-valuenow', s.map_lr);
    point.setAttribute('aria-valuemin', map.stab.lr[0]);
    point.setAttribute('aria-valuemax', map.stab.lr[map.stab.lr.length - 1]);
}

// The point's run on the race's close-up when it stays inside it, on the whole surface otherwise.
function drawPointRun(whole, close, res, state)
{
    const run = res.runs[0], st = res.analysis.stability, min = res.analysis.optimum.loss;
    const surface = holds(close, run) ? close : whole;
    const { f, x, y } = contourPlot(plotBox('point-path'), surface,
        `Momentum path with learning rate ${run.lr} and β ${run.hyperparameters.momentum}`, { key: surface === whole });
    f.svg.dataset.closeUp = surface === close;
    drawPath(f, x, y, run, '#d55e00');
    drawLoss(plotBox('point-loss'), [run], ['#d55e00'], `Loss per epoch of momentum with learning rate ${run.lr}: ${run.status}`,
        { minimum: min, val: false, items: [{ color: '#d55e00', label: 'training loss' }] });
    const badge = $('#point-status');
    badge.textContent = statusText(run);
    badge.className = `badge ${run.status}`;
    badge.dataset.status = run.status;
    badge.dataset.lr = run.lr;
    badge.dataset.momentum = run.hyperparameters.momentum;
    bind('map_lr', String(run.lr));
    bind('map_beta', String(run.hyperparameters.momentum));
    const rho = run.rate && run.rate.predicted;
    const crit = st.momentum === run.hyperparameters.momentum ? st.lr_critical.momentum : null;
    let text = `η = ${run.lr}, β = ${run.hyperparameters.momentum}`;
    if (crit !== null) text += `: the critical rate at this β is ${fmt(crit, 4)}, so η is ${run.lr < crit ? 'below' : 'above'} it`;
    text += '. ';
    if (rho !== null && rho !== undefined) {
        text += `Each step multiplies the distance to the minimum by ρ = ${fmt(rho, 4)} in the long run`;
        text += rho < 1 ? ` (${fmt(-1 / Math.log(rho), 3)} steps per e-fold; Polyak’s ${fmt(st.polyak.rate, 3)} takes ${fmt(-1 / Math.log(st.polyak.rate), 3)})` : '';
        if (run.rate.measured !== null) text += `; the run measured ${fmt(run.rate.measured, 4)}`;
        text += '. ';
    }
    if (run.status === 'diverged') text += `The run diverged at epoch ${run.diverged_at}.`;
    else text += `After ${run.epochs_run} epochs the loss is ${fmt(run.final.train_loss, 4)} (the minimum is ${fmt(min, 4)}).`;
    $('#point-explain').textContent = text;
}

function drawFinder(fd, state)
{
    const box = plotBox('finder');
    if (fd === MISSING) {
        box.replaceChildren();
        box.classList.add('missing');
        box.dataset.missing = 'lr-finder';
        box.textContent = 'The range test needs gdlab’s /lr-finder, which this server does not offer yet: '
            + 'the rest of the section works without it.';
        $('#finder-explain').textContent = '';
        return;
    }
    box.classList.remove('missing');
    delete box.dataset.missing;
    const f = frame(box, SIZES.wide, `Learning-rate range test on ${featureLabel(state)}: loss against learning rate`);
    const n = fd.lr.length;
    const marks = [fd.lr_critical, fd.lr_optimal].filter((v) => v !== null && Number.isFinite(v));
    const xs = [...fd.lr, ...marks];
    const x = log10([Math.min(...xs) / 1.5, Math.max(...xs) * 1.5], [0, f.w]);
    const ys = [...fd.loss, ...fd.raw_loss].filter((v) => v !== null && Number.isFinite(v) && v > 0);
    const best = Math.min(...ys);
    const top = Math.min(Math.max(...ys), fd.loss[0] * 100);
    const y = log10([10 ** Math.floor(Math.log10(best)), 10 ** Math.ceil(Math.log10(top))], [f.h, 0]);
    axes(f, x, y, { xTitle: 'learning rate η (log scale)', yTitle: 'loss (log scale)' });
    const clampY = (v) => (v === null || !Number.isFinite(v) ? null : Math.min(Math.max(v, y.domain[0]), y.domain[1] * 10));
    const raw = el('g', { class: 'finder-raw' }, f.plot);
    fd.lr.forEach((lr, i) => {
        const v = clampY(fd.raw_loss[i]);
        if (v !== null) el('circle', { cx: x(lr).toFixed(1), cy: y(v).toFixed(1), r: 1.8 }, raw);
    });
    el('path', { class: 'finder-loss', d: polyline(fd.lr.map((lr, i) => [lr, clampY(fd.loss[i])]), x, y),
        'data-points': n, 'data-stopped-at': fd.stopped_at }, f.plot);
    const vline = (v, cls, label, k) => {
        el('line', { class: cls, x1: x(v), x2: x(v), y1: 0, y2: f.h, 'data-lr': v }, f.plot);
        el('text', { x: x(v) + 4, y: 12 + 13 * k, class: 'map-label' }, f.over, label);
    };
    if (fd.lr_critical !== null) vline(fd.lr_critical, 'crit-line finder-critical', `critical 2/λmax = ${fmt(fd.lr_critical, 3)}`, 0);
    if (fd.lr_optimal !== null) vline(fd.lr_optimal, 'opt-line finder-optimal', `optimal = ${fmt(fd.lr_optimal, 3)}`, 1);
    const dot = (pt, cls, label) => {
        if (!pt || pt.lr === null || pt.index === null) return;
        const v = fd.loss[pt.index];
        el('circle', { class: cls, cx: x(pt.lr), cy: y(clampY(v)), r: 5.5, 'data-lr': pt.lr, 'data-index': pt.index }, f.over);
        el('text', { x: x(pt.lr) - 8, y: y(clampY(v)) + 4, 'text-anchor': 'end', class: 'map-label' }, f.over, label);
    };
    dot(fd.min_loss, 'finder-min', `lowest loss at ${fmt(fd.min_loss.lr, 3)}`);
    dot(fd.suggestion, 'finder-suggestion', `suggested ${fd.suggestion.lr === null ? '—' : fmt(fd.suggestion.lr, 3)}`);
    let text;
    if (fd.suggestion.lr === null) {
        text = `The test made ${n} steps, too few for a suggestion (it skips the first 10 and the last 5). `;
    } else {
        text = `The test suggests η = ${fmt(fd.suggestion.lr, 3)}, where the smoothed loss fell fastest: ` +
            `${fmt(fd.suggestion.lr / fd.lr_critical, 2)} × the exact critical rate ${fmt(fd.lr_critical, 4)} and ` +
            `${fmt(fd.suggestion.lr / fd.lr_optimal, 2)} × the optimal ${fmt(fd.lr_optimal, 4)}. `;
    }
    text += `Its loss was lowest at η = ${fmt(fd.min_loss.lr, 3)}`;
    text += fd.stopped_at === null ? '.' : `; it stopped after step ${fd.stopped_at}, when the loss had blown up.`;
    $('#finder-explain').textContent = text;
}

function drawMiniBatch(surface, full, mini, state)
{
    const fr = full.runs[0], mr = mini.runs[0];
    const perEpoch = mr.steps_run / mr.epochs_run;
    // The loss chart counts epochs: the mini-batch run's steps are fractions of one.
    const mEpoch = { ...mr, batch: mini.params.batch_size,
        history: { ...mr.history, epoch: mr.history.step.map((k) => k / perEpoch) } };
    const { f, x, y } = contourPlot(plotBox('mb-path'), surface, `Full batch and mini-batches of ${state.batch}, learning rate ${state.lr}`);
    drawPath(f, x, y, fr, '#0072b2');
    drawPath(f, x, y, mEpoch, '#d55e00');
    const items = [{ color: '#0072b2', label: 'full batch' }, { color: '#d55e00', label: `mini-batches of ${state.batch}` }];
    drawLoss(plotBox('mb-loss'), [fr, mEpoch], ['#0072b2', '#d55e00'], `Loss per epoch, full batch and mini-batches of ${state.batch}`,
        { minimum: full.analysis.optimum.loss, val: false, items });
    bind('batch', String(state.batch));
    const text = `In ${mr.epochs_run} epochs the full-batch run made ${fr.steps_run ?? fr.epochs_run} steps and ended ` +
        `${fmt(fr.final.train_loss - full.analysis.optimum.loss, 3)} above the minimum; with mini-batches of ${state.batch} it made ` +
        `${mr.steps_run} steps and ended ${fmt(mr.final.train_loss - full.analysis.optimum.loss, 3)} above it, ` +
        'jittering around the minimum instead of settling on it: each batch pulls towards its own least-squares line.';
    $('#mb-explain').textContent = text;
}

// --- orchestration ---------------------------------------------------------------------------------

let firstReady = null;

function fail(names, err)
{
    for (const name of names) {
        const box = plotBox(name);
        if (box) {
            box.replaceChildren();
            box.classList.add('failed');
            box.textContent = `Could not draw: ${err.message}`;
        }
    }
}

// Two groups draw independently: sections 1–7 ("main") and section 8, which loads once it comes near
// the screen. <html data-state> is "loading" while either has a figure in flight, then "ready" or
// "error"; <section id="s8" data-state> tells section 8's own.
const groups = { main: { started: false, pending: 0, errors: new Map() }, ch8: { started: false, pending: 0, errors: new Map() } };
const live = {}; // per figure key: the generation whose answers may still draw

function paintState()
{
    const g8 = groups.ch8;
    if (g8.started) $('#s8').dataset.state = g8.pending ? 'loading' : g8.errors.size ? 'error' : 'ready';
    const status = $('#status');
    if (Object.values(groups).some((g) => g.pending)) {
        document.documentElement.dataset.state = 'loading';
        status.classList.remove('error');
        status.textContent = 'Computing…';
        return;
    }
    const errors = Object.values(groups).flatMap((g) => [...g.errors.values()]);
    if (errors.length) {
        status.classList.add('error');
        status.textContent = `The server said: ${[...new Set(errors)].join('; ')}`;
        document.documentElement.dataset.state = 'error';
        return;
    }
    status.classList.remove('error');
    status.textContent = 'Up to date.';
    document.documentElement.dataset.state = 'ready';
    if (firstReady === null) {
        // Time from navigation to the first frame that shows every figure: after the next frame's
        // style, layout and paint.
        firstReady = performance.now();
        requestAnimationFrame(() => setTimeout(() => {
            window.gdlab.readyMs = performance.now();
            window.gdlab.scriptReadyMs = firstReady;
        }, 0));
    }
}

// Run a group's drawing tasks [key, deps, draw, names]: each figure draws as soon as its answers are
// in, unless a newer task for the same figure has started since (its answers are then dropped).
function run(group, tasks)
{
    const g = groups[group];
    g.started = true;
    for (const [key, deps, draw, names] of tasks) {
        const gen = (live[key] || 0) + 1;
        live[key] = gen;
        g.pending++;
        g.errors.delete(key);
        Promise.all(deps.map((d) => d())).then((vals) => {
            if (live[key] === gen) draw(...vals);
        }).catch((err) => {
            if (live[key] !== gen) return;
            fail(names, err);
            g.errors.set(key, err.message);
        }).finally(() => {
            g.pending--;
            paintState();
        });
    }
    paintState();
}

// Draw sections 1–7 for a state (only: 'lr' redraws what the learning rate changes).
function update(state, { only = null } = {})
{
    const r = requests(state);
    bind('eta', String(state.lr));
    bind('epochs', String(state.epochs));
    bind('m', String(state.multiplier));
    bind('scaler', state.scaler);
    const lrTasks = [
        ['marks', [r.step], (s) => placeMarks(s.analysis), []],
        ['step', [r.surface, r.cross, r.step], (s, c, st) => drawStep(s, c, st, state), ['step']],
        ['eta', [r.surface, r.eta], (s, e) => drawEta(s, e, state), ['eta-path', 'eta-loss']],
    ];
    run('main', only === 'lr' ? lrTasks : [
        ['data', [r.dataset], drawData, ['scatter-train', 'scatter-val']],
        ['start', [r.dataset, r.step], drawStart, ['start']],
        ['surface', [r.surface, r.step], drawSurface, ['surface']],
        ['gradients', [r.surface, r.cross], drawGradients, ['cuts', 'cs-w', 'cs-b', 'cs-w-zoom', 'cs-b-zoom']],
        ...lrTasks,
        ['panels', [r.surface, r.lrs], (s, l) => drawPanels(s, l, state), []],
        ['bad', [r.surface, r.cross, r.badSurface, r.badCross, r.step, r.scale],
            (...v) => drawBad(...v, state), ['bad-before', 'bad-after', 'bad-cs-before', 'bad-cs-after', 'bad-lr']],
        ['scaled', [r.surface, r.badSurface, r.scaledSurface, r.step, r.scale],
            (...v) => drawScaled(...v, state), ['std-orig', 'std-bad', 'std-scaled']],
    ]);
}

// Section 8's figures and the settings each depends on.
const PARTS8 = {
    race: ['seed', 'n', 'noise', 'multiplier', 'scaler', 'feature'],
    map: ['seed', 'n', 'noise', 'multiplier', 'scaler', 'feature'],
    point: ['seed', 'n', 'noise', 'multiplier', 'scaler', 'feature', 'map_lr', 'map_beta'],
    finder: ['seed', 'n', 'noise', 'multiplier', 'scaler', 'feature'],
    minibatch: ['seed', 'n', 'noise', 'lr', 'batch'],
};
const MAIN_FIELDS = ['seed', 'n', 'noise', 'lr', 'lrs', 'epochs', 'multiplier', 'scaler'];
let wanted8 = false;

function update8(state, parts = Object.keys(PARTS8))
{
    const r = requests8(state);
    const scaler = state.scaler === 'none' ? 'standard' : state.scaler;
    bind('scaler8', scaler);
    bind('race_epochs', String(RACE.epochs));
    bind('mb_epochs', String(MINIBATCH_EPOCHS));
    bind('m', String(state.multiplier));
    bind('eta', String(state.lr));
    // Paths are drawn on a close-up of the surface around them: a /surface of its own, so that the
    // contours are as fine there as on the whole grid.
    const closeUp = (whole, runs, zoom) => () => Promise.all([whole(), ...runs.map((g) => g())]).then(([s, ...answers]) => {
        const view = pathView(answers.flatMap((a) => a.runs), s);
        return view ? zoom(view) : s;
    });
    const raceSurface = closeUp(r.surface, [r.race], r.zoom);
    const mbSurface = closeUp(r.surfaceGenerated, [r.fullBatch, r.miniBatch], r.zoomGenerated);
    const tasks = {
        race: ['race', [raceSurface, r.race], (s, x) => drawRace(s, x, state), ['race-path', 'race-loss']],
        map: ['map', [r.stability], (x) => drawMap(x, state), ['map']],
        point: ['point', [r.surface, raceSurface, r.point], (s, c, x) => drawPointRun(s, c, x, state), ['point-path', 'point-loss']],
        finder: ['finder', [r.finder], (x) => drawFinder(x, state), ['finder']],
        minibatch: ['minibatch', [mbSurface, r.fullBatch, r.miniBatch],
            (s, fb, mb) => drawMiniBatch(s, fb, mb, state), ['mb-path', 'mb-loss']],
    };
    run('ch8', parts.map((p) => tasks[p]));
}

// --- controls ------------------------------------------------------------------------------------

// This module loads async; it draws once the document and the deferred d3 scripts are in.
// The deferred d3 scripts run after parsing ends (readyState "interactive") and before
// DOMContentLoaded; this module may run on either side of them.
const haveD3 = () => Boolean(window.d3 && window.d3.contours);
if (document.readyState === 'loading' || (!haveD3() && document.readyState !== 'complete')) {
    await new Promise((ok) => {
        document.addEventListener('DOMContentLoaded', ok, { once: true });
        window.addEventListener('load', ok, { once: true });
    });
}

const form = $('#controls');
const slider = $('#lr'), lrNum = $('#lr-num');
let state = stateFromHash();

function showState(s)
{
    for (const name of ['seed', 'n', 'noise', 'epochs', 'multiplier']) form.elements[name].value = String(s[name]);
    form.elements.lrs.value = s.lrs.join(', ');
    form.elements.scaler.value = s.scaler;
    slider.value = String(s.lr);
    lrNum.value = String(s.lr);
    for (const radio of document.querySelectorAll('input[name="feature"]')) radio.checked = radio.value === s.feature;
    $('#map-lr').value = String(s.map_lr);
    $('#map-beta').value = String(s.map_beta);
    const batch = $('#batch');
    if (![...batch.options].some((o) => o.value === String(s.batch))) batch.add(new Option(String(s.batch), String(s.batch)));
    batch.value = String(s.batch);
    for (const input of document.querySelectorAll('input')) input.removeAttribute('aria-invalid');
}

// Read one control; an invalid value is flagged on the control and named in the status line.
function readControl(name, input)
{
    const field = FIELDS[name];
    const v = field.parse(input.value);
    if (!field.check(v)) {
        input.setAttribute('aria-invalid', 'true');
        const status = $('#status');
        status.classList.add('error');
        status.textContent = `${name} must be ${field.limit}.`;
        return undefined;
    }
    input.removeAttribute('aria-invalid');
    return v;
}

function commit(next, opts)
{
    const changed = Object.keys(FIELDS).filter((k) => !same(next[k], state[k]));
    if (!changed.length) return;
    state = next;
    writeHash(state);
    window.gdlab.state = state;
    if (changed.some((k) => MAIN_FIELDS.includes(k))) {
        update(state, { only: changed.every((k) => k === 'lr') ? 'lr' : null, ...opts });
    }
    if (wanted8) {
        placePoint(state);
        const parts = Object.keys(PARTS8).filter((p) => changed.some((k) => PARTS8[p].includes(k)));
        if (parts.length) update8(state, parts);
    }
}

function onControl(event)
{
    const input = event.target;
    const name = input.name;
    if (!(name in FIELDS) || name === 'lr') return;
    const v = readControl(name, input);
    if (v === undefined) return;
    commit({ ...state, [name]: v });
}

let typing = null;
form.addEventListener('change', onControl);
form.addEventListener('input', (event) => {
    if (event.target.tagName === 'SELECT') return;
    clearTimeout(typing);
    typing = setTimeout(() => onControl(event), 400);
});
form.addEventListener('submit', (event) => event.preventDefault());
$('#reset').addEventListener('click', () => {
    showState(DEFAULTS);
    commit({ ...DEFAULTS });
});

// The learning-rate slider answers while it moves; its twin number box takes exact values.
let sliding = null;
function setLr(v, from)
{
    if (!FIELDS.lr.check(v)) {
        from.setAttribute('aria-invalid', 'true');
        return;
    }
    from.removeAttribute('aria-invalid');
    if (from !== slider) slider.value = String(v);
    if (from !== lrNum) lrNum.value = String(v);
    bind('eta', String(v));
    clearTimeout(sliding);
    sliding = setTimeout(() => commit({ ...state, lr: v }), 60);
}
slider.addEventListener('input', () => setLr(Number(slider.value), slider));
lrNum.addEventListener('change', () => setLr(Number(lrNum.value), lrNum));
slider.setAttribute('aria-valuetext', `η = ${state.lr}`);
slider.addEventListener('input', () => slider.setAttribute('aria-valuetext', `η = ${slider.value}`));

// --- section 8's controls ---

// The feature for the race, the map and the range test.
for (const radio of document.querySelectorAll('input[name="feature"]')) {
    radio.addEventListener('change', () => {
        if (radio.checked) commit({ ...state, feature: radio.value });
    });
}
$('#batch').addEventListener('change', (event) => {
    const v = readControl('batch', event.target);
    if (v !== undefined) commit({ ...state, batch: v });
});

// The reader's (η, β): two number boxes, and the point on the map that follows them.
let pointing = null;
function setPoint(lr, beta, from = null)
{
    const ok = FIELDS.map_lr.check(lr) && FIELDS.map_beta.check(beta);
    if (!ok) return;
    if (from !== $('#map-lr')) $('#map-lr').value = String(lr);
    if (from !== $('#map-beta')) $('#map-beta').value = String(beta);
    placePoint({ ...state, map_lr: lr, map_beta: beta });
    clearTimeout(pointing);
    pointing = setTimeout(() => commit({ ...state, map_lr: lr, map_beta: beta }), 60);
}
for (const [id, name] of [['#map-lr', 'map_lr'], ['#map-beta', 'map_beta']]) {
    $(id).addEventListener('change', (event) => {
        const v = readControl(name, event.target);
        if (v === undefined) return;
        setPoint(name === 'map_lr' ? v : state.map_lr, name === 'map_beta' ? v : state.map_beta, event.target);
    });
}

const round2 = (v) => Number(v.toPrecision(2));
const clampBeta = (b) => Math.max(0, Math.min(MAP_BETA_MAX, Math.round(b * 100) / 100));

// Arrow keys move the point: left and right along a ladder of round rates, up and down by 0.01 in β
// (Page Up and Page Down by 0.1). Dragging moves it to round numbers too.
function wireMapPoint()
{
    const { point, f, x, y } = map;
    point.addEventListener('keydown', (event) => {
        let lr = state.map_lr, beta = state.map_beta;
        const { lr: pendingLr, beta: pendingBeta } = point.dataset;
        if (pendingLr !== undefined) lr = Number(pendingLr);
        if (pendingBeta !== undefined) beta = Number(pendingBeta);
        const moves = {
            ArrowRight: () => { lr = ladder(lr, 1); },
            ArrowLeft: () => { lr = ladder(lr, -1); },
            ArrowUp: () => { beta = clampBeta(beta + 0.01); },
            ArrowDown: () => { beta = clampBeta(beta - 0.01); },
            PageUp: () => { beta = clampBeta(beta + 0.1); },
            PageDown: () => { beta = clampBeta(beta - 0.1); },
        };
        if (!moves[event.key]) return;
        event.preventDefault();
        moves[event.key]();
        const [lo, hi] = x.domain;
        if (lr < lo || lr > hi) lr = lr < lo ? ladder(lo, 1) : ladder(hi, -1);
        setPoint(lr, beta);
    });
    const at = (event) => {
        const m = f.g.getScreenCTM().inverse();
        const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
        const px = Math.max(0, Math.min(f.w, p.x)), py = Math.max(0, Math.min(f.h, p.y));
        return [round2(x.invert(px)), clampBeta(y.invert(py))];
    };
    f.svg.addEventListener('pointerdown', (event) => {
        if (event.button !== 0) return;
        f.svg.setPointerCapture(event.pointerId);
        point.focus({ preventScroll: true });
        setPoint(...at(event));
        event.preventDefault();
    });
    f.svg.addEventListener('pointermove', (event) => {
        if (f.svg.hasPointerCapture(event.pointerId)) setPoint(...at(event));
    });
}

// Section 8 loads when the reader comes within a screen or so of it.
function want8()
{
    if (wanted8) return;
    wanted8 = true;
    update8(state);
}
if ('IntersectionObserver' in window) {
    const seen = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) {
            seen.disconnect();
            want8();
        }
    }, { rootMargin: '800px 0px' });
    seen.observe($('#s8'));
} else {
    window.addEventListener('load', want8, { once: true });
}

window.addEventListener('hashchange', () => {
    const next = stateFromHash();
    showState(next);
    commit(next);
});

window.gdlab = { state, readyMs: null, defaults: DEFAULTS, load8: want8 };
showState(state);
if (haveD3()) {
    update(state);
} else {
    document.documentElement.dataset.state = 'error';
    $('#status').textContent = 'The plotting library (/static/vendor/d3-*.min.js) did not load.';
}
