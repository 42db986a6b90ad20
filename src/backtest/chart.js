"use strict";
(function () {
  var DATA = JSON.parse(document.getElementById("chart-data").textContent);
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
  var canvas = document.getElementById("chart");
  var ctx = canvas.getContext("2d");
  var select = document.getElementById("symbol");
  var tip = document.getElementById("tip");
  var sym = 0, view = null, drag = null;

  DATA.symbols.forEach(function (s, i) {
    var o = document.createElement("option");
    o.value = String(i);
    o.textContent = s.name + " (" + s.candles.length + " 5m candles, " + s.markers.length / 2 + " trades)";
    select.appendChild(o);
  });

  function fullRange() {
    var s = DATA.symbols[sym];
    var t0 = Infinity, t1 = -Infinity;
    if (s && s.candles.length) { t0 = s.candles[0][0]; t1 = s.candles[s.candles.length - 1][0] + 300000; }
    if (DATA.equity.length) { t0 = Math.min(t0, DATA.equity[0][0]); t1 = Math.max(t1, DATA.equity[DATA.equity.length - 1][0]); }
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    return [t0, t1];
  }

  function legend() {
    var s = DATA.symbols[sym], el = document.getElementById("legend");
    el.textContent = "";
    (s ? s.lines : []).forEach(function (l, i) {
      var span = document.createElement("span");
      span.style.color = COLORS[i % COLORS.length];
      span.textContent = "\u2014 " + l.name + " (5m)";
      el.appendChild(span);
    });
    var st = document.createElement("span");
    st.style.color = "#d62728";
    st.textContent = "\u2504 stop";
    el.appendChild(st);
  }

  // Binary search: first index with time >= t.
  function lower(arr, t) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid][0] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function fmtTime(ms) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); }

  function draw() {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth || 800, h = Math.max(420, window.innerHeight - 60);
    canvas.style.height = h + "px";
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var left = 8, right = 70, pw = Math.max(10, w - left - right);
    var priceTop = 8, priceH = Math.round(h * 0.58), eqTop = priceTop + priceH + 24, eqH = Math.round(h * 0.2), ddTop = eqTop + eqH + 8, ddH = h - ddTop - 22;
    var t0 = view[0], t1 = view[1];
    function x(t) { return left + (t - t0) / (t1 - t0) * pw; }
    var s = DATA.symbols[sym];

    // Price panel.
    var lo = Infinity, hi = -Infinity, i0 = 0, i1 = 0;
    if (s) {
      i0 = Math.max(0, lower(s.candles, t0) - 1); i1 = Math.min(s.candles.length, lower(s.candles, t1) + 1);
      for (var i = i0; i < i1; i++) { lo = Math.min(lo, s.candles[i][3]); hi = Math.max(hi, s.candles[i][2]); }
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi === lo) { hi += 1; lo -= 1; }
    var pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
    function y(p) { return priceTop + (hi - p) / (hi - lo) * priceH; }
    axis(lo, hi, y, priceTop, priceH, w - right);
    if (s) {
      var cw = Math.max(1, 300000 / (t1 - t0) * pw * 0.7);
      for (var j = i0; j < i1; j++) {
        var c = s.candles[j], cx = x(c[0] + 150000);
        var up = c[4] >= c[1];
        ctx.strokeStyle = ctx.fillStyle = up ? "#26a69a" : "#ef5350";
        ctx.beginPath(); ctx.moveTo(cx, y(c[2])); ctx.lineTo(cx, y(c[3])); ctx.stroke();
        var top = y(Math.max(c[1], c[4])), bot = y(Math.min(c[1], c[4]));
        ctx.fillRect(cx - cw / 2, top, cw, Math.max(1, bot - top));
      }
      s.lines.forEach(function (l, k) {
        ctx.strokeStyle = COLORS[k % COLORS.length]; ctx.lineWidth = 1.2; ctx.beginPath();
        var pen = false;
        for (var j = i0; j < i1; j++) {
          var v = l.v[j];
          if (v === null || v === undefined) { pen = false; continue; }
          var px = x(s.candles[j][0] + 300000), py = y(v);
          if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
          pen = true;
        }
        ctx.stroke(); ctx.lineWidth = 1;
      });
      ctx.strokeStyle = "#d62728"; ctx.setLineDash([4, 3]);
      s.stops.forEach(function (steps) {
        if (!steps.length || steps[steps.length - 1][0] < t0 || steps[0][0] > t1) return;
        ctx.beginPath(); ctx.moveTo(x(steps[0][0]), y(steps[0][1]));
        for (var k = 1; k < steps.length; k++) { ctx.lineTo(x(steps[k][0]), y(steps[k - 1][1])); ctx.lineTo(x(steps[k][0]), y(steps[k][1])); }
        ctx.stroke();
      });
      ctx.setLineDash([]);
      s.markers.forEach(function (m) {
        if (m[0] < t0 || m[0] > t1) return;
        var mx = x(m[0]), my = y(m[1]);
        ctx.beginPath();
        if (m[2] === "long") { ctx.fillStyle = "#0a8f3c"; ctx.moveTo(mx, my); ctx.lineTo(mx - 6, my + 10); ctx.lineTo(mx + 6, my + 10); }
        else if (m[2] === "short") { ctx.fillStyle = "#c0392b"; ctx.moveTo(mx, my); ctx.lineTo(mx - 6, my - 10); ctx.lineTo(mx + 6, my - 10); }
        else { ctx.fillStyle = "#333"; ctx.rect(mx - 4, my - 4, 8, 8); }
        ctx.closePath(); ctx.fill();
      });
    }

    // Equity and drawdown panels.
    var e0 = Math.max(0, lower(DATA.equity, t0) - 1), e1 = Math.min(DATA.equity.length, lower(DATA.equity, t1) + 1);
    var elo = Infinity, ehi = -Infinity, peak = -Infinity, dds = [], ddMax = 0;
    for (var q = 0; q < DATA.equity.length; q++) {
      var ev = DATA.equity[q][1];
      peak = Math.max(peak, ev);
      var dd = peak > 0 ? (peak - ev) / peak * 100 : 0;
      dds.push(dd);
      if (q >= e0 && q < e1) { elo = Math.min(elo, ev); ehi = Math.max(ehi, ev); ddMax = Math.max(ddMax, dd); }
    }
    if (!isFinite(elo)) { elo = 0; ehi = 1; }
    if (ehi === elo) { ehi += 1; elo -= 1; }
    function ye(v) { return eqTop + (ehi - v) / (ehi - elo) * eqH; }
    function yd(v) { return ddTop + v / (ddMax || 1) * ddH; }
    axis(elo, ehi, ye, eqTop, eqH, w - right);
    axis(0, ddMax || 1, yd, ddTop, ddH, w - right, true);
    ctx.fillStyle = "#555"; ctx.fillText("equity", left + 2, eqTop + 10); ctx.fillText("drawdown %", left + 2, ddTop + 10);
    ctx.strokeStyle = "#1f77b4"; ctx.beginPath();
    for (var r = e0; r < e1; r++) { var ex = x(DATA.equity[r][0]), ey = ye(DATA.equity[r][1]); if (r === e0) ctx.moveTo(ex, ey); else ctx.lineTo(ex, ey); }
    ctx.stroke();
    ctx.fillStyle = "rgba(214,39,40,.35)"; ctx.beginPath(); ctx.moveTo(x(e0 < DATA.equity.length ? DATA.equity[e0][0] : t0), ddTop);
    for (var u = e0; u < e1; u++) ctx.lineTo(x(DATA.equity[u][0]), yd(dds[u]));
    ctx.lineTo(x(e1 > 0 ? DATA.equity[e1 - 1][0] : t1), ddTop); ctx.closePath(); ctx.fill();

    // Time axis.
    ctx.fillStyle = "#555";
    for (var k2 = 0; k2 <= 4; k2++) { var tt = t0 + (t1 - t0) * k2 / 4; ctx.fillText(fmtTime(tt), Math.min(left + k2 * pw / 4, w - right - 100), h - 6); }
  }

  function axis(lo, hi, yf, top, height, xr, invert) {
    ctx.strokeStyle = "#eee"; ctx.fillStyle = "#555"; ctx.font = "11px monospace";
    for (var k = 0; k <= 4; k++) {
      var v = lo + (hi - lo) * k / 4, yy = yf(v);
      ctx.beginPath(); ctx.moveTo(8, yy); ctx.lineTo(xr, yy); ctx.stroke();
      ctx.fillText((invert ? "-" : "") + (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)), xr + 4, yy + 4);
    }
    ctx.strokeStyle = "#ccc"; ctx.strokeRect(8, top, xr - 8, height);
  }

  function timeAt(px) { var w = canvas.clientWidth || 800; var pw = Math.max(10, w - 78); return view[0] + (px - 8) / pw * (view[1] - view[0]); }

  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var t = timeAt(ev.offsetX), f = ev.deltaY > 0 ? 1.25 : 0.8;
    var full = fullRange(), span = Math.max(30 * 60000, (view[1] - view[0]) * f);
    var a = t - (t - view[0]) * span / (view[1] - view[0]);
    view = [Math.max(full[0], a), Math.min(full[1], a + span)];
    draw();
  }, { passive: false });
  canvas.addEventListener("mousedown", function (ev) { drag = [ev.offsetX, view[0], view[1]]; });
  window.addEventListener("mouseup", function () { drag = null; });
  canvas.addEventListener("mousemove", function (ev) {
    if (drag) {
      var w = canvas.clientWidth || 800, dt = (ev.offsetX - drag[0]) / Math.max(10, w - 78) * (drag[2] - drag[1]);
      view = [drag[1] - dt, drag[2] - dt]; draw(); tip.style.display = "none"; return;
    }
    var s = DATA.symbols[sym], t = timeAt(ev.offsetX);
    if (!s || !s.candles.length) return;
    var c = s.candles[Math.min(s.candles.length - 1, Math.max(0, lower(s.candles, t) - 1))];
    var text = s.name + "  " + fmtTime(c[0]) + " UTC\nO " + c[1] + "  H " + c[2] + "  L " + c[3] + "  C " + c[4];
    s.markers.forEach(function (m) { if (Math.abs(m[0] - t) < (view[1] - view[0]) / 200) text += "\n" + m[3]; });
    tip.textContent = text; tip.style.display = "block";
    tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 14) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  canvas.addEventListener("dblclick", function () { view = fullRange(); draw(); });
  select.addEventListener("change", function () { sym = Number(select.value); view = fullRange(); legend(); draw(); });
  window.addEventListener("resize", draw);

  view = fullRange();
  legend();
  draw();
  if (document.body.getAttribute("data-render") === "pending") document.body.setAttribute("data-render", "ok");
})();
