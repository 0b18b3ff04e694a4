// gdlab's tutorial page: reads its state from the address, asks the API for every number and draws
// the seven sections of the tutorial from the answers.
import {
    OKABE_ITO, SIZES, axes, contourPlot, el, fmt, fmt2, frame, legend, linear, log10, marker, pad,
    polyline, scatter,
} from './plot.js';
import { DEFAULTS, FIELDS, requests, same, stateFromHash, writeHash } from './state.js';

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
    el('path', { class: 'path', d, stroke: color, 'data-lr': run.lr, 'data-status': run.status }, f.plot);
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
function drawLoss(box, runs, colors, label)
{
    const f = frame(box, SIZES.square, label);
    let lo = Infinity, hi = 0, start = 0, last = 1;
    for (const run of runs) {
        const h = run.history;
        start = Math.max(start, h.train_loss[0]);
        last = Math.max(last, h.epoch[h.epoch.length - 1], run.epochs_run);
        for (const v of [...h.train_loss, ...h.val_loss]) {
            if (v !== null && Number.isFinite(v) && v > 0) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
    }
    if (!Number.isFinite(lo)) lo = 1e-3;
    hi = Math.min(Math.max(hi, start), start * 1e4);
    const yd = [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
    if (yd[0] === yd[1]) yd[1] *= 10;
    const x = linear([0, last], [0, f.w]), y = log10(yd, [f.h, 0]);
    axes(f, x, y, { xTitle: 'epoch', yTitle: 'loss (log scale)', yTicks: 6 });
    const clampY = (v) => (v === null || !Number.isFinite(v) || v > yd[1] * 1e3 ? yd[1] * 1e3 : Math.max(v, yd[0] / 10));
    runs.forEach((run, k) => {
        const h = run.history;
        const cut = h.train_loss.findIndex((v) => v === null || !Number.isFinite(v));
        const end = cut < 0 ? h.epoch.length : cut + 1;
        const tr = h.epoch.slice(0, end).map((e, i) => [e, clampY(h.train_loss[i])]);
        const va = h.epoch.slice(0, end).map((e, i) => [e, clampY(h.val_loss[i])]);
        el('path', { class: 'loss-val', d: polyline(va, x, y), stroke: colors[k] }, f.plot);
        el('path', { class: 'loss-train', d: polyline(tr, x, y), stroke: colors[k], 'data-lr': run.lr,
            'data-status': run.status, 'data-first': h.train_loss[0], 'data-last': run.final.train_loss }, f.plot);
        if (run.status === 'diverged' && run.diverged_at >= 0) {
            const xe = x(Math.min(run.diverged_at, last));
            el('line', { class: 'crit-line', x1: xe, x2: xe, y1: 0, y2: f.h, opacity: 0.5 }, f.plot);
            el('text', { class: 'diverged-mark', x: Math.min(xe + 4, f.w - 4), y: 14 + 13 * k,
                'text-anchor': xe > f.w * 0.6 ? 'end' : 'start', 'data-epoch': run.diverged_at }, f.over,
            `diverged at epoch ${run.diverged_at}`);
        }
    });
    legend(f, [{ color: '#444', label: 'training loss' }, { color: '#444', label: 'validation loss', dash: '5 3' }],
        { x: f.w - 150, y: f.h - 36 });
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

// --- orchestration ---------------------------------------------------------------------------------

let generation = 0;
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
    throw err;
}

// Draw every section for a state: each section as soon as its answers are in.
async function update(state, { only = null } = {})
{
    const gen = ++generation;
    document.documentElement.dataset.state = 'loading';
    const status = $('#status');
    status.classList.remove('error');
    status.textContent = 'Computing…';
    const r = requests(state);
    const live = () => gen === generation;
    const when = (deps, draw, names) => Promise.all(deps.map((d) => d())).then((vals) => {
        if (live()) draw(...vals);
    }).catch((err) => {
        if (live()) fail(names, err);
    });
    bind('eta', String(state.lr));
    bind('epochs', String(state.epochs));
    bind('m', String(state.multiplier));
    bind('scaler', state.scaler);
    const all = only === 'lr'
        ? [
            when([r.step], (s) => placeMarks(s.analysis), []),
            when([r.surface, r.cross, r.step], (s, c, st) => drawStep(s, c, st, state), ['step']),
            when([r.surface, r.eta], (s, e) => drawEta(s, e, state), ['eta-path', 'eta-loss']),
        ]
        : [
            when([r.dataset], drawData, ['scatter-train', 'scatter-val']),
            when([r.dataset, r.step], drawStart, ['start']),
            when([r.step], (s) => placeMarks(s.analysis), []),
            when([r.surface, r.step], drawSurface, ['surface']),
            when([r.surface, r.cross], drawGradients, ['cuts', 'cs-w', 'cs-b', 'cs-w-zoom', 'cs-b-zoom']),
            when([r.surface, r.cross, r.step], (s, c, st) => drawStep(s, c, st, state), ['step']),
            when([r.surface, r.eta], (s, e) => drawEta(s, e, state), ['eta-path', 'eta-loss']),
            when([r.surface, r.lrs], (s, l) => drawPanels(s, l, state), []),
            when([r.surface, r.cross, r.badSurface, r.badCross, r.step, r.scale],
                (...v) => drawBad(...v, state), ['bad-before', 'bad-after', 'bad-cs-before', 'bad-cs-after', 'bad-lr']),
            when([r.surface, r.badSurface, r.scaledSurface, r.step, r.scale],
                (...v) => drawScaled(...v, state), ['std-orig', 'std-bad', 'std-scaled']),
        ];
    const results = await Promise.allSettled(all);
    if (!live()) return;
    const errors = results.filter((x) => x.status === 'rejected').map((x) => x.reason.message);
    if (errors.length) {
        status.classList.add('error');
        status.textContent = `The server said: ${[...new Set(errors)].join('; ')}`;
        document.documentElement.dataset.state = 'error';
        return;
    }
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
    for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
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
    update(state, { only: changed.every((k) => k === 'lr') ? 'lr' : null, ...opts });
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

window.addEventListener('hashchange', () => {
    const next = stateFromHash();
    showState(next);
    commit(next);
});

window.gdlab = { state, readyMs: null, defaults: DEFAULTS };
showState(state);
if (haveD3()) {
    update(state);
} else {
    document.documentElement.dataset.state = 'error';
    $('#status').textContent = 'The plotting library (/static/vendor/d3-*.min.js) did not load.';
}
