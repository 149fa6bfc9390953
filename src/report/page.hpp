// The report page's fixed parts: inline CSS, markup and script (see html.hpp).
#pragma once

namespace mz::report {

inline constexpr const char* kPageHead = R"MZHTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)MZHTML";

inline constexpr const char* kPageStyleAndBody = R"MZHTML(<style>
*{box-sizing:border-box}
html,body{margin:0;height:100%;overflow:hidden;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
#bar{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;padding:6px 10px;background:#fff;border-bottom:1px solid #d8dce3}
#bar h1{font-size:15px;margin:0 8px 0 0}
#stats{color:#556}
#legend span{display:inline-flex;align-items:center;margin-right:9px;white-space:nowrap}
#legend i{display:inline-block;width:18px;height:3px;margin-right:4px;border-radius:2px}
#legend i.bad{background:repeating-linear-gradient(90deg,#d62728 0 4px,transparent 4px 7px)}
#legend b{color:#d62728;margin-right:4px;font-size:14px}
button{font:inherit;padding:2px 8px;border:1px solid #c4c9d2;border-radius:4px;background:#fff;cursor:pointer}
button:hover{background:#eef1f6}
body{display:flex;flex-direction:column}
#main{display:flex;flex:1;min-height:0}
#wrap{flex:1;position:relative;min-width:200px;overflow:hidden}
#cv{position:absolute;inset:0;width:100%;height:100%;cursor:crosshair;display:block}
#details{width:470px;max-width:48%;overflow:auto;background:#fff;border-left:1px solid #d8dce3;padding:8px 12px}
#details h2{font-size:14px;margin:4px 0 6px}
#details .meta{color:#445;margin-bottom:6px}
#details .badge{display:inline-block;padding:0 6px;border-radius:8px;margin:0 4px 2px 0;font-size:12px;background:#e8ecf3}
#details .badge.bad{background:#fde2e2;color:#a01212}
#details details{border:1px solid #e1e5ec;border-radius:4px;margin:5px 0}
#details summary{cursor:pointer;padding:3px 6px;font-weight:600;background:#f1f4f8}
#details table{border-collapse:collapse;width:100%}
#details td{padding:1px 6px;vertical-align:top;border-top:1px solid #f0f2f5;word-break:break-all}
#details td:first-child{color:#556;white-space:nowrap;width:38%;word-break:normal}
#details td.bad{color:#c01818;font-weight:600}
#details td.good{color:#16803a}
#details pre{font:11.5px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f7f8fa;border:1px solid #e1e5ec;padding:5px;overflow:auto;margin:4px 0}
#details h3{font-size:13px;margin:10px 0 2px}
#hint{color:#778}
#tip{position:absolute;pointer-events:none;background:rgba(20,24,32,.88);color:#fff;padding:3px 7px;border-radius:4px;font-size:12px;display:none;max-width:460px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#selftest{display:none}
</style>
</head>
<body>
<div id="bar"><h1 id="title">Ladder diagram</h1><span id="stats"></span><span id="legend"></span>
<span><button id="fit" title="show the whole run">Fit</button> <button id="zin" title="zoom in (wheel, +)">+</button> <button id="zout" title="zoom out (wheel, -)">&minus;</button></span>
<span id="hint">wheel: zoom time &middot; drag or shift+wheel: pan &middot; click an arrow</span></div>
<div id="main"><div id="wrap"><canvas id="cv"></canvas><div id="tip"></div></div>
<aside id="details"><p id="hint2">Click an arrow to see its frame decoded layer by layer.</p></aside></div>
<pre id="selftest"></pre>
)MZHTML";

inline constexpr const char* kPageScript = R"MZHTML((function () {
'use strict';
const T_START = performance.now();
const D = JSON.parse(document.getElementById('mz-data').textContent);
const S = D.S, N = D.t.length, LANES = D.lanes.length;
const PROTO = ['other', 'ARP', 'ICMP', 'UDP', 'TCP', 'session', 'TLS', 'HTTP'];
const COLOR = ['#8a8f98', '#e08a00', '#1f9ed8', '#1a9a5a', '#2456c8', '#b0479c', '#6c3bb8', '#8a5a16'];
const BAD = '#d62728';
const F_LOST = 1, F_NOTRX = 2, F_BADFCS = 4, F_RXERR = 8, F_LINEERR = 16, F_DUP = 32, F_BITERR = 64, F_DOWN = 128;
const F_CORRUPT = F_BADFCS | F_RXERR | F_LINEERR;

// Frame columns.
const send = new Float64Array(N), end = new Float64Array(N), recv2 = new Float64Array(N);
const fromLane = new Int32Array(N), toLane = new Int32Array(N), flags = new Int32Array(N), proto = new Uint8Array(N);
const latSum = new Float64Array(D.ports.length), latCnt = new Float64Array(D.ports.length);
let acc = 0;
for (let i = 0; i < N; i++) {
  acc += D.t[i]; send[i] = acc;
  flags[i] = D.f[i]; proto[i] = D.p[i];
  const sp = D.s[i], rp = D.r[i];
  fromLane[i] = sp >= 0 ? D.ports[sp][1] : 0;
  toLane[i] = rp >= 0 ? D.ports[rp][1] : (fromLane[i] > 0 ? fromLane[i] - 1 : Math.min(1, LANES - 1));
  if (D.a[i] >= 0) { latSum[sp] += D.a[i]; latCnt[sp]++; }
  recv2[i] = -1;
}
for (const k in D.d2) recv2[+k] = send[+k] + D.d2[k];
let maxSpan = 1;
for (let i = 0; i < N; i++) {
  let e;
  if (D.a[i] >= 0) e = send[i] + D.a[i];
  else { const sp = D.s[i]; const lat = sp >= 0 && latCnt[sp] ? latSum[sp] / latCnt[sp] : Math.max(4 * D.tx[i], 1e5); e = send[i] + 0.6 * lat; }
  end[i] = e;
  if (recv2[i] > e) end[i] = recv2[i];
  if (end[i] - send[i] > maxSpan) maxSpan = end[i] - send[i];
}
const T_PARSED = performance.now();

// Text helpers.
function fmtNs(ns) {
  const s = Math.floor(ns / 1e9), r = Math.round(ns - s * 1e9);
  return s + '.' + String(r).padStart(9, '0') + ' s';
}
function fmtDur(ns) {
  if (ns >= 1e9) return (ns / 1e9).toPrecision(4) + ' s';
  if (ns >= 1e6) return (ns / 1e6).toPrecision(4) + ' ms';
  if (ns >= 1e3) return (ns / 1e3).toPrecision(4) + ' \u00b5s';
  return ns + ' ns';
}
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]); }
function portLabel(p) { return p >= 0 ? D.ports[p][0] : '?'; }
function summary(i) { return S[D.k[i]]; }
function statusText(i) {
  const f = flags[i], out = [];
  if (f & F_LOST) out.push('lost in transit');
  if (f & F_DOWN) out.push('lost: link went down');
  else if (f & F_NOTRX) out.push('not received');
  if (f & F_LINEERR) out.push('line error: undecodable signal');
  if (f & F_BADFCS) out.push('bad FCS');
  if (f & F_RXERR) out.push('invalid code groups');
  if (f & F_BITERR) out.push('bit errors on the line');
  if (f & F_DUP) out.push('duplicated');
  return out;
}

document.getElementById('title').textContent = 'Ladder diagram' + (D.scenario ? ' \u2014 ' + D.scenario : '');
let nLost = 0, nBad = 0;
for (let i = 0; i < N; i++) { if (flags[i] & (F_LOST | F_NOTRX)) nLost++; if (flags[i] & F_CORRUPT) nBad++; }
document.getElementById('stats').textContent = N + ' frames, ' + LANES + ' nodes, ' + nLost + ' lost, ' + nBad + ' damaged' +
  (N ? ', ' + fmtNs(send[0]) + ' \u2026 ' + fmtNs(send[N - 1]) : '');
{
  let h = '';
  for (let p = 1; p < PROTO.length; p++) h += '<span><i style="background:' + COLOR[p] + '"></i>' + PROTO[p] + '</span>';
  h += '<span><i class="bad"></i>damaged</span><span><b>\u2715</b>lost</span>';
  document.getElementById('legend').innerHTML = h;
}

// View: time runs down; t0 is the time at the top of the plot, nsPerPx the scale.
const cv = document.getElementById('cv'), wrap = document.getElementById('wrap'), tip = document.getElementById('tip');
const ctx = cv.getContext('2d');
const TOP = 34, GUTTER = 92;
let W = 800, H = 600, t0 = 0, nsPerPx = 1e6, sel = -1, drawnCount = 0;
let hitIdx = new Int32Array(1024), hitN = 0;
const hitXY = { a: new Float32Array(4096) };

function laneX(l) { return GUTTER + (l + 0.5) * (W - GUTTER) / Math.max(LANES, 1); }
function yOf(t) { return TOP + (t - t0) / nsPerPx; }
function resize() {
  const dpr = window.devicePixelRatio || 1;
  W = Math.max(wrap.clientWidth, 300); H = Math.max(wrap.clientHeight, 200);
  cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
}
function fit() {
  if (!N) { t0 = 0; nsPerPx = 1e6; return; }
  let last = send[N - 1];
  for (let i = Math.max(0, N - 64); i < N; i++) last = Math.max(last, end[i]);
  const span = Math.max(last - send[0], 1000);
  nsPerPx = span * 1.06 / Math.max(H - TOP - 10, 50);
  t0 = send[0] - span * 0.02;
}
function lowerBound(arr, v) { let lo = 0, hi = N; while (lo < hi) { const m = (lo + hi) >> 1; if (arr[m] < v) lo = m + 1; else hi = m; } return lo; }
function niceStep(raw) { const p = Math.pow(10, Math.floor(Math.log10(raw))); const m = raw / p; return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p; }
function tickLabel(t, step) {
  const dec = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9))));
  return (t / 1e9).toFixed(dec) + ' s';
}

function pushHit(i, x1, y1, x2, y2) {
  if (hitN >= hitIdx.length) {
    const n = new Int32Array(hitIdx.length * 2); n.set(hitIdx); hitIdx = n;
    const a = new Float32Array(hitXY.a.length * 2); a.set(hitXY.a); hitXY.a = a;
  }
  hitIdx[hitN] = i; const o = hitN * 4; hitXY.a[o] = x1; hitXY.a[o + 1] = y1; hitXY.a[o + 2] = x2; hitXY.a[o + 3] = y2; hitN++;
}

function render() {
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
  const t1 = t0 + (H - TOP) * nsPerPx;
  // Time grid.
  const step = niceStep(nsPerPx * 70);
  ctx.font = '11px system-ui,sans-serif'; ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  ctx.strokeStyle = '#eef0f4'; ctx.lineWidth = 1; ctx.fillStyle = '#667';
  ctx.beginPath();
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const y = Math.round(yOf(t)) + 0.5; ctx.moveTo(GUTTER - 4, y); ctx.lineTo(W, y);
  }
  ctx.stroke();
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ctx.fillText(tickLabel(t, step), GUTTER - 8, yOf(t));
  // Lanes.
  ctx.strokeStyle = '#b9c0cc'; ctx.lineWidth = 1.5; ctx.beginPath();
  for (let l = 0; l < LANES; l++) { const x = Math.round(laneX(l)) + 0.5; ctx.moveTo(x, TOP); ctx.lineTo(x, H); }
  ctx.stroke();
  // Arrows in view: frames are in send order; an arrow spans at most maxSpan.
  hitN = 0;
  const first = lowerBound(send, t0 - maxSpan), last = lowerBound(send, t1 + 1);
  const candidates = last - first;
  const dense = candidates > 4000;
  const paths = [], badPath = new Path2D(), crosses = new Path2D(), heads = [];
  for (let p = 0; p < PROTO.length; p++) { paths.push(new Path2D()); heads.push(new Path2D()); }
  const seen = dense ? new Map() : null;
  let drawn = 0;
  const labels = [];
  for (let i = first; i < last; i++) {
    if (end[i] < t0) continue;
    const x1 = laneX(fromLane[i]), x2full = laneX(toLane[i]);
    const y1 = yOf(send[i]);
    const f = flags[i];
    const lost = (f & (F_LOST | F_NOTRX)) && !(f & F_LINEERR) && D.a[i] < 0;
    const y2 = yOf(end[i] > send[i] && recv2[i] < 0 ? end[i] : (D.a[i] >= 0 ? send[i] + D.a[i] : end[i]));
    const x2 = lost ? x1 + (x2full - x1) * 0.6 : x2full;
    if (dense) {
      const key = (fromLane[i] * 64 + toLane[i]) * 16 + proto[i];
      const yk = Math.round(y1) * 4096 + Math.round(y2 - y1);
      if (seen.get(key) === yk) continue;
      seen.set(key, yk);
    }
    drawn++;
    pushHit(i, x1, y1, x2, y2);
    const bad = (f & F_CORRUPT) !== 0;
    const path = bad ? badPath : paths[proto[i]];
    path.moveTo(x1, y1); path.lineTo(x2, y2);
    if (recv2[i] >= 0) { path.moveTo(x1, y1); path.lineTo(x2full, yOf(recv2[i])); }
    if (lost) { crosses.moveTo(x2 - 5, y2 - 5); crosses.lineTo(x2 + 5, y2 + 5); crosses.moveTo(x2 + 5, y2 - 5); crosses.lineTo(x2 - 5, y2 + 5); }
    else if (!dense) {
      const hp = bad ? badPath : heads[proto[i]];
      const ang = Math.atan2(y2 - y1, x2 - x1), L = 8;
      hp.moveTo(x2, y2); hp.lineTo(x2 - L * Math.cos(ang - 0.4), y2 - L * Math.sin(ang - 0.4));
      hp.moveTo(x2, y2); hp.lineTo(x2 - L * Math.cos(ang + 0.4), y2 - L * Math.sin(ang + 0.4));
      if (bad) {  // a break in the middle of a damaged arrow
        const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
        hp.moveTo(mx - 4, my + 6); hp.lineTo(mx + 4, my - 6);
      }
    }
    if (candidates <= 300) labels.push(i);
  }
  drawnCount = drawn;
  ctx.lineWidth = dense ? 1 : 1.4;
  for (let p = 0; p < PROTO.length; p++) { ctx.strokeStyle = COLOR[p]; ctx.stroke(paths[p]); ctx.stroke(heads[p]); }
  ctx.save(); ctx.strokeStyle = BAD; ctx.lineWidth = 1.6; ctx.setLineDash([5, 3]); ctx.stroke(badPath); ctx.restore();
  ctx.strokeStyle = BAD; ctx.lineWidth = 2; ctx.stroke(crosses);
  // Labels when few arrows are in view: the frame's summary above the arrow's middle.
  if (labels.length) {
    ctx.font = '11px system-ui,sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    const lastByPair = new Map();
    for (const i of labels) {
      const x1 = laneX(fromLane[i]), x2 = laneX(toLane[i]);
      const y1 = yOf(send[i]), y2 = yOf(D.a[i] >= 0 ? send[i] + D.a[i] : end[i]);
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const pair = Math.min(fromLane[i], toLane[i]) * 4096 + Math.max(fromLane[i], toLane[i]);
      const prevY = lastByPair.get(pair);
      if (prevY !== undefined && Math.abs(my - prevY) < 14) continue;
      lastByPair.set(pair, my);
      let s = summary(i);
      const maxW = Math.max(Math.abs(x2 - x1) - 10, 60);
      while (s.length > 8 && ctx.measureText(s).width > maxW) s = s.slice(0, Math.floor(s.length * 0.85)) + '\u2026';
      ctx.fillStyle = 'rgba(255,255,255,.85)';
      const w = ctx.measureText(s).width;
      ctx.fillRect(mx - w / 2 - 2, my - 14, w + 4, 13);
      ctx.fillStyle = (flags[i] & F_CORRUPT) ? BAD : COLOR[proto[i]];
      ctx.fillText(s, mx, my - 1);
    }
  }
  // Selection.
  if (sel >= 0) {
    const i = sel, x1 = laneX(fromLane[i]), lost = D.a[i] < 0 && !(flags[i] & F_LINEERR);
    const x2 = lost ? x1 + (laneX(toLane[i]) - x1) * 0.6 : laneX(toLane[i]);
    const y1 = yOf(send[i]), y2 = yOf(D.a[i] >= 0 ? send[i] + D.a[i] : end[i]);
    ctx.save(); ctx.strokeStyle = 'rgba(255,200,0,.55)'; ctx.lineWidth = 7; ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke(); ctx.restore();
    ctx.strokeStyle = (flags[i] & F_CORRUPT) ? BAD : COLOR[proto[i]]; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
  }
  // Lane headers on top.
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, TOP);
  ctx.strokeStyle = '#d8dce3'; ctx.beginPath(); ctx.moveTo(0, TOP + 0.5); ctx.lineTo(W, TOP + 0.5); ctx.stroke();
  ctx.font = '600 12px system-ui,sans-serif'; ctx.textAlign = 'center'; ctx.textBaseline = 'middle'; ctx.fillStyle = '#1d2330';
  for (let l = 0; l < LANES; l++) ctx.fillText(D.lanes[l], laneX(l), TOP / 2);
  ctx.textAlign = 'left'; ctx.font = '11px system-ui,sans-serif'; ctx.fillStyle = '#778';
  ctx.fillText(dense ? drawn + ' of ' + candidates + ' arrows drawn' : drawn + ' arrows', 6, TOP / 2);
}

let pending = false;
function schedule() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } }

function hitTest(x, y) {
  let best = -1, bd = 7 * 7;
  const a = hitXY.a;
  for (let k = 0; k < hitN; k++) {
    const o = k * 4, x1 = a[o], y1 = a[o + 1], x2 = a[o + 2], y2 = a[o + 3];
    const dx = x2 - x1, dy = y2 - y1, len2 = dx * dx + dy * dy;
    let u = len2 > 0 ? ((x - x1) * dx + (y - y1) * dy) / len2 : 0;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    const ex = x1 + u * dx - x, ey = y1 + u * dy - y, d = ex * ex + ey * ey;
    if (d < bd) { bd = d; best = hitIdx[k]; }
  }
  return best;
}

// Decoding the embedded data on demand.
function b64(s) { const bin = atob(s || ''); const u = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i); return u; }
function hex2(v) { return v.toString(16).padStart(2, '0'); }
function hexdump(u) {
  let out = '';
  for (let o = 0; o < u.length; o += 16) {
    let h = '', a = '';
    for (let j = 0; j < 16; j++) {
      if (o + j < u.length) { const c = u[o + j]; h += hex2(c) + ' '; a += c >= 32 && c < 127 ? String.fromCharCode(c) : '.'; }
      else h += '   ';
      if (j === 7) h += ' ';
    }
    out += o.toString(16).padStart(4, '0') + '  ' + h + ' ' + a + '\n';
  }
  return out;
}
const G45 = ['11110', '01001', '10100', '10101', '01010', '01011', '01110', '01111', '10010', '10011', '10110', '10111', '11010', '11011', '11100', '11101'];
function encode45(u) {  // the same 4B/5B burst as l1::encode_frame: J K, preamble/SFD, frame (low nibble first), T R
  let s = '1100010001';
  const pre = [0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0xd5];
  for (const c of pre) s += G45[c & 15] + G45[c >> 4];
  for (const c of u) s += G45[c & 15] + G45[c >> 4];
  return s + '0110100111';
}
function unpackBits(u, nbits) { let s = ''; for (let i = 0; i < nbits; i++) s += (u[i >> 3] >> (7 - (i & 7))) & 1; return s; }
function lineBits(i) {
  const n = D.n[i], nbits = 10 * (n + 9);
  if (D.lb[i] !== undefined) return { bits: unpackBits(b64(D.lb[i]), nbits), src: 'l1::encode_frame' };
  const u = b64(D.b[i]);
  if (u.length !== n) return null;
  return { bits: encode45(u), src: 'computed in the page (same 4B/5B table)' };
}
function formatLineBits(bits, n) {
  const g = []; for (let i = 0; i < bits.length; i += 5) g.push(bits.slice(i, i + 5));
  let out = 'J K        ' + g[0] + ' ' + g[1] + '\n';
  let row = 'preamble   ';
  for (let b = 0; b < 7; b++) row += g[2 + 2 * b] + ' ' + g[3 + 2 * b] + (b === 6 ? '  (SFD)' : ' | ');
  out += row + '\n';
  for (let b = 0; b < n; b += 4) {
    let r = 'byte ' + String(b).padStart(4) + '  ';
    for (let k = b; k < Math.min(n, b + 4); k++) r += g[16 + 2 * k] + ' ' + g[17 + 2 * k] + (k + 1 < Math.min(n, b + 4) ? ' | ' : '');
    out += r + '\n';
  }
  out += 'T R        ' + g[g.length - 2] + ' ' + g[g.length - 1] + '\n';
  return out;
}
function layersHtml(x) {
  let h = '';
  for (const l of x) {
    const tpl = D.L[l[0]];
    h += '<details open><summary>' + esc(S[tpl[0]]) + '</summary><table>';
    for (let j = 1; j < l.length; j++) {
      let key = S[tpl[j]], v = l[j], txt;
      if (v < 0) txt = S[-v - 1];
      else if (key[0] === '#') { const c = key.indexOf(':'); txt = '0x' + v.toString(16).padStart(+key.slice(1, c), '0'); key = key.slice(c + 1); }
      else txt = String(v);
      const cls = /^(good|ok)/.test(txt) ? 'good' : /^(bad|BAD)/.test(txt) ? 'bad' : '';
      h += '<tr><td>' + esc(key) + '</td><td class="' + cls + '">' + esc(txt) + '</td></tr>';
    }
    h += '</table></details>';
  }
  return h;
}
const details = document.getElementById('details');
function showDetails(i) {
  if (i < 0 || i >= N) return false;
  sel = i;
  const f = flags[i];
  let h = '<h2>Frame #' + (i + 1) + ': ' + esc(summary(i)) + '</h2><div class="meta">';
  h += '<span class="badge" style="background:' + COLOR[proto[i]] + ';color:#fff">' + PROTO[proto[i]] + '</span>';
  for (const s of statusText(i)) h += '<span class="badge bad">' + esc(s) + '</span>';
  if (!(f & (F_CORRUPT | F_LOST | F_NOTRX))) h += '<span class="badge">delivered</span>';
  h += '<br>' + esc(portLabel(D.s[i])) + ' \u2192 ' + esc(portLabel(D.r[i])) + ', ' + D.n[i] + ' bytes (FCS included)';
  h += '<br>sent at ' + fmtNs(send[i]) + ' (' + fmtDur(D.tx[i]) + ' on the wire)';
  if (D.a[i] >= 0) h += '<br>' + ((f & F_LINEERR) ? 'line error at ' : 'arrived at ') + fmtNs(send[i] + D.a[i]) + ' (after ' + fmtDur(D.a[i]) + ')';
  if (recv2[i] >= 0) h += '<br>duplicate arrived at ' + fmtNs(recv2[i]);
  h += '</div>';
  h += layersHtml(D.x[i]);
  if (D.xr[i] !== undefined) h += '<h3>As received (damaged on the line)</h3>' + layersHtml(D.xr[i]);
  const u = b64(D.b[i]);
  h += '<h3>Bytes' + (u.length < D.n[i] ? ' (first ' + u.length + ' of ' + D.n[i] + ')' : '') + '</h3><pre>' + esc(hexdump(u)) + '</pre>';
  if (D.rb[i] !== undefined) h += '<h3>Bytes as received</h3><pre>' + esc(hexdump(b64(D.rb[i]))) + '</pre>';
  if (D.n[i] < 128) {
    const lb = lineBits(i);
    if (lb) h += '<h3>L1 line bits: ' + lb.bits.length + ' bits, 4B/5B groups</h3><div class="meta">' + esc(lb.src) + '</div><pre>' + esc(formatLineBits(lb.bits, D.n[i])) + '</pre>';
  }
  details.innerHTML = h;
  schedule();
  return true;
}

// Interaction.
let drag = null;
cv.addEventListener('mousedown', e => { drag = { y: e.clientY, t0: t0, moved: false }; });
window.addEventListener('mouseup', e => {
  if (drag && !drag.moved) {
    const r = cv.getBoundingClientRect();
    const i = hitTest(e.clientX - r.left, e.clientY - r.top);
    if (i >= 0) showDetails(i);
  }
  drag = null;
});
cv.addEventListener('mousemove', e => {
  const r = cv.getBoundingClientRect();
  if (drag) {
    const dy = e.clientY - drag.y;
    if (Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) { t0 = drag.t0 - dy * nsPerPx; schedule(); }
    tip.style.display = 'none';
    return;
  }
  const i = hitTest(e.clientX - r.left, e.clientY - r.top);
  if (i >= 0) {
    tip.textContent = '#' + (i + 1) + ' ' + fmtNs(send[i]) + '  ' + summary(i);
    tip.style.left = Math.min(e.clientX - r.left + 12, W - 300) + 'px'; tip.style.top = (e.clientY - r.top + 14) + 'px'; tip.style.display = 'block';
    cv.style.cursor = 'pointer';
  } else { tip.style.display = 'none'; cv.style.cursor = 'crosshair'; }
});
cv.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
function zoomAt(y, factor) {
  const t = t0 + (y - TOP) * nsPerPx;
  nsPerPx = Math.min(Math.max(nsPerPx * factor, 0.01), 1e12);
  t0 = t - (y - TOP) * nsPerPx;
  schedule();
}
cv.addEventListener('wheel', e => {
  e.preventDefault();
  const r = cv.getBoundingClientRect();
  const d = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
  if (e.shiftKey) { t0 += (d || e.deltaX) * nsPerPx; schedule(); }
  else zoomAt(e.clientY - r.top, Math.exp(d * 0.0015));
}, { passive: false });
window.addEventListener('keydown', e => {
  if (e.key === '+' || e.key === '=') zoomAt(H / 2, 0.7);
  else if (e.key === '-') zoomAt(H / 2, 1 / 0.7);
  else if (e.key === 'ArrowDown' || e.key === 'PageDown') { t0 += (e.key === 'PageDown' ? H * 0.8 : 40) * nsPerPx; schedule(); }
  else if (e.key === 'ArrowUp' || e.key === 'PageUp') { t0 -= (e.key === 'PageUp' ? H * 0.8 : 40) * nsPerPx; schedule(); }
});
document.getElementById('fit').onclick = () => { fit(); schedule(); };
document.getElementById('zin').onclick = () => zoomAt(H / 2, 0.6);
document.getElementById('zout').onclick = () => zoomAt(H / 2, 1 / 0.6);
window.addEventListener('resize', () => { resize(); schedule(); });

resize(); fit(); render();
const T_FIRST = performance.now();

function detailsText() { return details.innerText; }
function firstOf(name) { const p = PROTO.indexOf(name); for (let i = 0; i < N; i++) if (proto[i] === p) return i; return -1; }
window.mzReport = {
  arrowCount: () => N,
  frameCount: () => N,
  drawnCount: () => drawnCount,
  clickArrow: i => showDetails(i),
  detailsText: detailsText,
  firstOf: firstOf,
  render: render,
  view: () => ({ t0: t0, nsPerPx: nsPerPx }),
};

const selMatch = /^#frame=(\d+)$/.exec(location.hash);  // #frame=N opens frame N (1-based)
if (selMatch) showDetails(+selMatch[1] - 1);
if (location.hash === '#selftest') {
  const r = { arrows: N, frames: N, lanes: LANES, parse_ms: +(T_PARSED - T_START).toFixed(1), first_render_ms: +(T_FIRST - T_PARSED).toFixed(1),
              drawn_fit: drawnCount };
  // Render at several zoom levels and positions, as a user scrolling would.
  let t = performance.now(), worst = 0;
  const steps = 24;
  for (let k = 0; k < steps; k++) {
    const a = performance.now();
    if (k < 8) zoomAt(H / 2, 0.5); else if (k < 16) { t0 += (H * 0.5) * nsPerPx; } else zoomAt(H / 3, 2.2);
    render();
    worst = Math.max(worst, performance.now() - a);
  }
  r.render_avg_ms = +((performance.now() - t) / steps).toFixed(2);
  r.render_worst_ms = +worst.toFixed(2);
  fit(); render();
  // A click through the hit test: the middle of an arrow in view picks that arrow.
  let probe = -1;
  for (let k = 0; k < hitN && probe < 0; k++) probe = hitIdx[k];
  if (probe >= 0) {
    const o = 0, a = hitXY.a;
    r.hit_ok = hitTest((a[o] + a[o + 2]) / 2, (a[o + 1] + a[o + 3]) / 2) >= 0;
  }
  const icmp = firstOf('ICMP');
  r.icmp_index = icmp;
  let pick = icmp;
  for (const name of ['UDP', 'TCP', 'session', 'TLS', 'HTTP']) if (pick < 0) pick = firstOf(name);
  if (pick < 0) pick = 0;
  r.clicked = pick;
  const t2 = performance.now();
  r.click_ok = N ? showDetails(pick) : false;
  r.click_ms = +(performance.now() - t2).toFixed(2);
  const txt = N ? detailsText() : '';
  r.details_chars = txt.length;
  r.details_has = {};
  for (const w of ['Ethernet', 'IPv4', 'ICMP', 'UDP', 'TCP', 'FCS', 'checksum', 'line bits']) r.details_has[w] = txt.indexOf(w) >= 0;
  r.details_head = txt.slice(0, 400);
  // The page's 4B/5B groups against l1::encode_frame's.
  let checked = 0, match = true;
  for (const k in D.lb) {
    const i = +k, u = b64(D.b[i]);
    if (u.length !== D.n[i]) continue;
    if (encode45(u) !== unpackBits(b64(D.lb[k]), 10 * (D.n[i] + 9))) match = false;
    if (++checked >= 300) break;
  }
  r.line_bits_checked = checked; r.line_bits_match = match;
  const counts = {};
  for (let i = 0; i < N; i++) counts[PROTO[proto[i]]] = (counts[PROTO[proto[i]]] || 0) + 1;
  r.protocols = counts;
  r.lost = nLost; r.damaged = nBad;
  r.total_ms = +(performance.now() - T_START).toFixed(1);
  r.done = true;
  const el = document.getElementById('selftest');
  el.textContent = JSON.stringify(r);
}
})();
)MZHTML";

}  // namespace mz::report
