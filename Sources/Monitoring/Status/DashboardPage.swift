/// The live dashboard: one self-contained HTML page (inline CSS, JavaScript and SVG, no external
/// resources). At load it fetches `/history` (the last hours of plotted values and alert transitions), then polls
/// `/status` every second and draws full-width time series on link time — per-arm rates, coincidences and CAR
/// (zero-based axes), fidelity with its ±1σ band (dashed and titled as a bound when it is the Z/X lower bound),
/// clock offset, herald rate — with SI-prefixed labels and minimum axis spans, plus visibility per basis, the
/// active alerts and the alert history. Fidelity and the live analysis are shown as the
/// status server words them (`fidelityText`, `analysisRows`: `LinkAnalysisFormat`, bounds as "F ≥ … (Z/X bound)").
public enum DashboardPage {
    /// The page.
    public static let html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>QLink link status</title>
    <style>
    body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
    header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
    header h1 { font-size: 18px; margin: 0; }
    .state { padding: 2px 10px; border-radius: 10px; font-weight: 600; }
    .state.running { background: #2e7d32; } .state.degraded { background: #c62828; }
    .state.starting, .state.stopped, .state.unreachable { background: #757575; }
    main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; padding: 12px; }
    section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.12); }
    section.wide { grid-column: 1 / -1; }
    h2 { font-size: 14px; margin: 0 0 6px 0; color: #4a5266; }
    .big { font-size: 22px; font-weight: 600; }
    svg.chart { width: 100%; height: 190px; display: block; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eceef2; }
    .sev-critical { color: #c62828; font-weight: 600; } .sev-warning { color: #b26a00; font-weight: 600; } .sev-ok { color: #2e7d32; }
    .legend span { margin-right: 12px; font-size: 12px; }
    .note { font-size: 12px; color: #6b7385; }
    #error { color: #ffab91; }
    </style>
    </head>
    <body>
    <header><h1 id="link-name">QLink</h1><span id="link-state" class="state starting">starting</span>
    <span>updates: <span id="update-count">0</span></span><span id="history-count"></span><span id="uptime"></span><span id="error"></span></header>
    <main>
    <section class="wide"><h2>Per-arm count rates</h2><div class="big" id="arm-rates">–</div><svg class="chart" id="chart-arms"></svg><div class="legend" id="legend-arms"></div></section>
    <section class="wide"><h2>Coincidences and CAR</h2><div class="big"><span id="coincidence-rate">–</span> · CAR <span id="car">–</span></div><svg class="chart" id="chart-coincidences"></svg><svg class="chart" id="chart-car"></svg></section>
    <section class="wide"><h2 id="fidelity-title">Fidelity, windowed (±1σ band)</h2><div class="big" id="fidelity-value">–</div><svg class="chart" id="chart-fidelity"></svg><div class="note" id="fidelity-note"></div></section>
    <section class="wide"><h2>Clock offset of lab B</h2><div class="big"><span id="clock-offset">–</span> · residual <span id="clock-residual">–</span></div><svg class="chart" id="chart-clock"></svg></section>
    <section class="wide"><h2>Herald rate</h2><div class="big" id="herald-rate">–</div><svg class="chart" id="chart-heralds"></svg></section>
    <section><h2>Visibility per basis</h2><table><thead><tr><th>basis</th><th>visibility</th></tr></thead><tbody id="visibility"><tr><td colspan="2">–</td></tr></tbody></table></section>
    <section><h2>Active alerts</h2><table><thead><tr><th>severity</th><th>rule</th><th>subject</th><th>message</th></tr></thead><tbody id="alerts"><tr><td colspan="4">none</td></tr></tbody></table></section>
    <section class="wide"><h2>Alert history (latest first)</h2><table><thead><tr><th>link time</th><th>change</th><th>rule</th><th>subject</th><th>message</th></tr></thead><tbody id="alert-history"><tr><td colspan="5">none</td></tr></tbody></table></section>
    <section><h2>Recent heralds</h2><table><thead><tr><th>seq</th><th>attempt</th><th>outcome</th></tr></thead><tbody id="heralds"></tbody></table></section>
    <section><h2>Repetition rate</h2><div id="tuning">–</div></section>
    <section><h2>Tomography (live, maximum likelihood, raw counts)</h2><div id="tomography">no tomography yet (needs all nine Z/X/Y setting pairs)</div><table><tbody id="tomography-rho"></tbody></table></section>
    <section class="wide"><h2>Link analysis (the engine of qlink correlate)</h2><table><tbody id="analysis"><tr><td>no analysis yet</td></tr></tbody></table></section>
    </main>
    <script>
    "use strict";
    const KEEP = 6 * 3600;
    const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
    const series = { arms: {}, coincidences: [], car: [], fidelity: [], clock: [], heralds: [] };
    let updates = 0, lastT = -Infinity, lowerBound = false;
    function num(x) { if (x === null || x === undefined) return NaN; return Number(x); }
    const PREFIXES = [[1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""], [1e-3, "m"], [1e-6, "µ"], [1e-9, "n"], [1e-12, "p"]];
    /** A value with an SI prefix: si(1.5e6, "Hz") is "1.50 MHz"; never e-notation. */
    function si(x, unit, digits) {
      const v = num(x); if (!isFinite(v)) return "–";
      if (v === 0) return "0 " + unit;
      const a = Math.abs(v);
      for (const [f, p] of PREFIXES) if (a >= f * 0.9995) return (v / f).toPrecision(digits || 3) + " " + p + unit;
      return (v / 1e-12).toPrecision(digits || 3) + " p" + unit;
    }
    function plain(x, digits) { const v = num(x); return isFinite(v) ? v.toFixed(digits) : "–"; }
    function text(id, value) { const el = document.getElementById(id); if (el) el.textContent = value; }
    function add(list, t, v) { list.push({ t: t, v: v }); if (list.length > KEEP) list.shift(); }
    function svgEl(name, attrs) { const el = document.createElementNS("http://www.w3.org/2000/svg", name); for (const k in attrs) el.setAttribute(k, attrs[k]); return el; }
    /**
     * Draws time series (x: link time, y with `opts`): zero (the axis starts at zero, for rates and counts),
     * minSpan (the smallest y range shown, so noise does not look like a jump), lo/hi (fixed limits), unit (SI labels).
     * A band (value ± error) is drawn where given; nothing is clamped to the frame.
     */
    function draw(id, lines, opts) {
      const svg = document.getElementById(id); if (!svg) return;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const w = 1000, h = 190, left = 70, right = 8, top = 8, bottom = 20; svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      svg.setAttribute("preserveAspectRatio", "none");
      let lo = Infinity, hi = -Infinity, t0 = Infinity, t1 = -Infinity;
      for (const s of lines) for (const p of s.points) if (isFinite(p.v)) {
        const e = isFinite(p.e) ? p.e : 0; lo = Math.min(lo, p.v - e); hi = Math.max(hi, p.v + e); t0 = Math.min(t0, p.t); t1 = Math.max(t1, p.t);
      }
      if (!isFinite(lo)) { svg.appendChild(svgEl("text", { x: 20, y: 90, "font-size": 14, fill: "#888" })).textContent = "no data yet"; return; }
      if (opts.zero) lo = Math.min(0, lo);
      const span = Math.max(hi - lo, opts.minSpan || 0, 1e-300);
      const mid = (hi + lo) / 2;
      if (hi - lo < span) { lo = opts.zero ? Math.min(0, mid - span / 2) : mid - span / 2; hi = lo + span; }
      if (opts.lo !== undefined) lo = Math.max(opts.lo, lo);
      if (opts.hi !== undefined) hi = Math.min(opts.hi, hi);
      if (hi <= lo) hi = lo + span;
      hi += 0.05 * (hi - lo); if (!opts.zero || lo < 0) lo -= 0.05 * (hi - lo);
      if (t1 - t0 < 1) t1 = t0 + 1;
      const x = t => left + (w - left - right) * (t - t0) / (t1 - t0);
      const y = v => top + (h - top - bottom) * (hi - v) / (hi - lo);
      for (let k = 0; k <= 4; k++) {
        const v = lo + (hi - lo) * k / 4;
        svg.appendChild(svgEl("line", { x1: left, x2: w - right, y1: y(v), y2: y(v), stroke: "#eceef2" }));
        svg.appendChild(svgEl("text", { x: left - 4, y: y(v) + 4, "font-size": 11, "text-anchor": "end", fill: "#6b7385", class: "axis" })).textContent = opts.unit === "" ? v.toFixed(3) : si(v, opts.unit);
      }
      svg.appendChild(svgEl("text", { x: w - right, y: h - 4, "font-size": 11, "text-anchor": "end", fill: "#6b7385" })).textContent = "link time " + si(t1, "s") + " (last " + si(t1 - t0, "s") + ")";
      for (const [k, s] of lines.entries()) {
        const banded = s.points.filter(p => isFinite(p.v) && isFinite(p.e));
        if (banded.length > 1) {
          const upper = banded.map(p => x(p.t) + "," + y(p.v + p.e)), lower = banded.map(p => x(p.t) + "," + y(p.v - p.e)).reverse();
          svg.appendChild(svgEl("polygon", { points: upper.concat(lower).join(" "), fill: "rgba(21,101,192,0.18)", stroke: "none", class: "error-band" }));
        }
        const pts = s.points.filter(p => isFinite(p.v)).map(p => x(p.t) + "," + y(p.v));
        if (pts.length > 0) svg.appendChild(svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: s.color || COLORS[k % COLORS.length], "stroke-width": 1.8,
                                                              "stroke-dasharray": s.dashed ? "6 4" : "none", class: "series" }));
      }
    }
    function addPoint(p) {
      const t = num(p.timePs) / 1e12;
      if (!(t > lastT)) return;
      lastT = t;
      const arms = p.armRatesHz || {};
      for (const n of Object.keys(arms)) { if (!series.arms[n]) series.arms[n] = []; add(series.arms[n], t, num(arms[n])); }
      add(series.coincidences, t, num(p.coincidenceRateHz));
      add(series.car, t, num(p.car));
      series.fidelity.push({ t: t, v: num(p.fidelity), e: num(p.fidelityError) }); if (series.fidelity.length > KEEP) series.fidelity.shift();
      add(series.clock, t, num(p.clockOffsetPs) * 1e-12);
      add(series.heralds, t, num(p.heraldRateHz));
      lowerBound = !!p.fidelityIsLowerBound;
    }
    function drawAll() {
      const armNames = Object.keys(series.arms).sort();
      draw("chart-arms", armNames.map((n, k) => ({ points: series.arms[n], color: COLORS[k % COLORS.length] })), { zero: true, unit: "Hz" });
      const legend = document.getElementById("legend-arms"); legend.textContent = "";
      armNames.forEach((n, k) => { const s = document.createElement("span"); s.style.color = COLORS[k % COLORS.length]; s.textContent = "■ " + n; legend.appendChild(s); });
      draw("chart-coincidences", [{ points: series.coincidences }], { zero: true, unit: "Hz" });
      draw("chart-car", [{ points: series.car, color: COLORS[3] }], { zero: true, unit: "" });
      draw("chart-fidelity", [{ points: series.fidelity, dashed: lowerBound }], { minSpan: 0.1, lo: 0, hi: 1.05, unit: "" });
      text("fidelity-title", lowerBound ? "Fidelity lower bound F ≥ (Z/X bound), windowed (±1σ band, dashed: a bound)" : "Fidelity, windowed (±1σ band)");
      text("fidelity-note", lowerBound ? "No Y basis is measured: the value is the Z/X lower bound on the fidelity, not the fidelity." : "");
      draw("chart-clock", [{ points: series.clock, color: COLORS[2] }], { minSpan: 100e-12, unit: "s" });
      draw("chart-heralds", [{ points: series.heralds, color: COLORS[4] }], { zero: true, unit: "Hz" });
    }
    function rows(id, items, columns, empty) {
      const body = document.getElementById(id); body.textContent = "";
      if (items.length === 0) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.colSpan = columns; td.textContent = empty; tr.appendChild(td); body.appendChild(tr); return body; }
      return body;
    }
    function render(status) {
      updates += 1; text("update-count", String(updates)); text("error", "");
      text("link-name", "QLink · " + status.link + " (" + status.role + ")");
      const state = document.getElementById("link-state"); state.textContent = status.state; state.className = "state " + status.state;
      text("uptime", "up " + si(status.uptimeSeconds, "s"));
      const o = status.observation || {};
      addPoint({ timePs: status.timePs, armRatesHz: o.armRatesHz, coincidenceRateHz: o.coincidenceRateHz && o.coincidenceRateHz.value,
                 car: o.car && o.car.value, fidelity: o.fidelity && o.fidelity.value, fidelityError: o.fidelity && o.fidelity.standardError,
                 fidelityIsLowerBound: o.fidelityIsLowerBound, clockOffsetPs: o.clockOffsetPs, heraldRateHz: o.heraldRateHz && o.heraldRateHz.value });
      const arms = o.armRatesHz || {};
      text("arm-rates", Object.keys(arms).sort().map(n => n + " " + si(arms[n], "Hz")).join(" · ") || "–");
      text("coincidence-rate", si(o.coincidenceRateHz && o.coincidenceRateHz.value, "Hz"));
      text("car", plain(o.car && o.car.value, 1));
      text("fidelity-value", status.fidelityText || "–");
      text("clock-offset", si(num(o.clockOffsetPs) * 1e-12, "s", 6)); text("clock-residual", si(num(o.clockResidualPs) * 1e-12, "s"));
      text("herald-rate", si(o.heraldRateHz && o.heraldRateHz.value, "Hz"));
      drawAll();
      const visibility = o.visibility || {};
      const bases = Object.keys(visibility).sort();
      const vbody = rows("visibility", bases, 2, "–");
      for (const b of bases) {
        const tr = document.createElement("tr");
        for (const v of [b, plain(visibility[b].value, 4) + " ± " + plain(visibility[b].standardError, 4)]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
        vbody.appendChild(tr);
      }
      const alerts = rows("alerts", status.alerts || [], 4, "none");
      for (const a of status.alerts || []) {
        const tr = document.createElement("tr"); tr.className = "sev-" + a.severity;
        for (const v of [a.severity, a.rule, a.subject, a.message]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
        alerts.appendChild(tr);
      }
      const heralds = document.getElementById("heralds"); heralds.textContent = "";
      for (const hd of (status.recentHeralds || []).slice(-10).reverse()) {
        const tr = document.createElement("tr");
        for (const v of [hd.sequence, hd.attemptId, hd.outcome]) { const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td); }
        heralds.appendChild(tr);
      }
      const analysis = rows("analysis", status.analysisRows || [], 1, "no analysis yet");
      for (const row of status.analysisRows || []) {
        const tr = document.createElement("tr");
        for (const v of [row.label, row.value]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
        analysis.appendChild(tr);
      }
      const tomo = ((status.analysis || {}).tomography || [])[0];
      const rho = document.getElementById("tomography-rho"); rho.textContent = "";
      if (tomo) {
        const q = tomo.result.raw.quantities, f = (x) => Number(x).toFixed(3);
        text("tomography", (tomo.heraldedState ? "heralded " + tomo.heraldedState + " (first of " + ((status.analysis || {}).tomography || []).length + "): " : "") + "F " + f(q.fidelityToTarget) + " · F max. entangled " + f(q.fidelityMaxEntangled) + " · purity " + f(q.purity) + " · concurrence " + f(q.concurrence) + " · negativity " + f(q.negativity) + " · CHSH max " + f(q.chshMax) + " · Re ρ:");
        for (let r = 0; r < 4; r++) {
          const tr = document.createElement("tr");
          for (let c = 0; c < 4; c++) { const td = document.createElement("td"); td.textContent = f(tomo.result.raw.rho.re[4 * r + c]); tr.appendChild(td); }
          rho.appendChild(tr);
        }
      } else if (((status.analysis || {}).tomographyFailures || []).length) {
        const failure = status.analysis.tomographyFailures[0];
        text("tomography", "FAILED (" + (failure.heraldedState ? "heralded " + failure.heraldedState : "all coincidences") + "): " + failure.reason);
      }
      const t = status.tuning;
      text("tuning", t ? ("in force " + si(t.repetitionRateHz, "Hz") + " · recommended " + si(t.recommendedRateHz, "Hz") + " · auto-tune " + (t.autoTune ? "on" : "off") + (t.lastDecision ? " · " + t.lastDecision : "")) : "–");
    }
    function renderTransitions(list) {
      const body = rows("alert-history", list, 5, "none");
      for (const a of list.slice().reverse()) {
        const tr = document.createElement("tr"); tr.className = "sev-" + a.to;
        for (const v of [si(num(a.atPs) * 1e-12, "s"), a.from + " → " + a.to, a.rule, a.subject, a.message]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
        body.appendChild(tr);
      }
    }
    async function loadHistory() {
      try {
        const response = await fetch("history?seconds=" + KEEP, { cache: "no-store" });
        if (!response.ok) return;
        const reply = await response.json();
        for (const p of reply.points || []) addPoint(p);
        text("history-count", (reply.points || []).length + " points of history");
        renderTransitions(reply.alertTransitions || []);
        drawAll();
      } catch (e) { text("error", "history unavailable: " + e.message); }
    }
    async function poll() {
      try {
        const response = await fetch("status", { cache: "no-store" });
        if (!response.ok) throw new Error("HTTP " + response.status);
        render(await response.json());
      } catch (e) {
        text("error", "status unavailable: " + e.message);
        const state = document.getElementById("link-state"); state.textContent = "unreachable"; state.className = "state unreachable";
      }
    }
    async function refreshTransitions() {
      try { const r = await fetch("history?seconds=0", { cache: "no-store" }); if (r.ok) renderTransitions((await r.json()).alertTransitions || []); } catch (e) {}
    }
    loadHistory().then(poll); setInterval(poll, 1000); setInterval(refreshTransitions, 10000);
    </script>
    </body>
    </html>
    """
}
