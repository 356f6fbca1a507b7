/// The live dashboard: one self-contained HTML page (inline CSS, JavaScript and SVG, no external
/// resources) that polls `/status` every second and draws per-arm rates, coincidences, fidelity with its
/// error band, clock offset, herald rate and the active alerts. Fidelity and the live analysis are shown as the
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
    header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 24px; align-items: baseline; }
    header h1 { font-size: 18px; margin: 0; }
    .state { padding: 2px 10px; border-radius: 10px; font-weight: 600; }
    .state.running { background: #2e7d32; } .state.degraded { background: #c62828; }
    .state.starting, .state.stopped, .state.unreachable { background: #757575; }
    main { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; padding: 12px; }
    section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.12); }
    h2 { font-size: 14px; margin: 0 0 6px 0; color: #4a5266; }
    .big { font-size: 22px; font-weight: 600; }
    svg { width: 100%; height: 140px; display: block; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; }
    td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eceef2; }
    .sev-critical { color: #c62828; font-weight: 600; } .sev-warning { color: #b26a00; font-weight: 600; }
    .legend span { margin-right: 12px; font-size: 12px; }
    #error { color: #c62828; }
    section.wide { grid-column: 1 / -1; }
    </style>
    </head>
    <body>
    <header><h1 id="link-name">QLink</h1><span id="link-state" class="state starting">starting</span>
    <span>updates: <span id="update-count">0</span></span><span id="uptime"></span><span id="error"></span></header>
    <main>
    <section><h2>Per-arm count rates (Hz)</h2><div class="big" id="arm-rates">–</div><svg id="chart-arms"></svg><div class="legend" id="legend-arms"></div></section>
    <section><h2>Coincidences (Hz) and CAR</h2><div class="big"><span id="coincidence-rate">–</span> · CAR <span id="car">–</span></div><svg id="chart-coincidences"></svg></section>
    <section><h2>Fidelity (±1σ band; “≥” marks the Z/X lower bound)</h2><div class="big" id="fidelity-value">–</div><svg id="chart-fidelity"></svg></section>
    <section><h2>Clock offset (ps)</h2><div class="big"><span id="clock-offset">–</span> · residual <span id="clock-residual">–</span></div><svg id="chart-clock"></svg></section>
    <section><h2>Herald rate (Hz)</h2><div class="big" id="herald-rate">–</div><svg id="chart-heralds"></svg></section>
    <section><h2>Active alerts</h2><table><thead><tr><th>severity</th><th>rule</th><th>subject</th><th>message</th></tr></thead><tbody id="alerts"><tr><td colspan="4">none</td></tr></tbody></table></section>
    <section><h2>Recent heralds</h2><table><thead><tr><th>seq</th><th>attempt</th><th>outcome</th></tr></thead><tbody id="heralds"></tbody></table></section>
    <section><h2>Repetition rate</h2><div id="tuning">–</div></section>
    <section class="wide"><h2>Link analysis (the engine of qlink correlate)</h2><table><tbody id="analysis"><tr><td>no analysis yet</td></tr></tbody></table></section>
    </main>
    <script>
    "use strict";
    const HISTORY = 120;
    const COLORS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
    const history = { t: [], arms: {}, coincidences: [], fidelity: [], fidelityError: [], clock: [], heralds: [] };
    let updates = 0;
    function num(x) { if (x === null || x === undefined) return NaN; return Number(x); }
    function fmt(x, digits) { const v = num(x); if (!isFinite(v)) return "–"; return Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toPrecision(digits || 4); }
    function text(id, value) { const el = document.getElementById(id); if (el) el.textContent = value; }
    function push(list, value) { list.push(value); if (list.length > HISTORY) list.shift(); }
    function svgEl(name, attrs) { const el = document.createElementNS("http://www.w3.org/2000/svg", name); for (const k in attrs) el.setAttribute(k, attrs[k]); return el; }
    function draw(id, series, band) {
      const svg = document.getElementById(id); if (!svg) return;
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const w = 400, h = 140, pad = 4; svg.setAttribute("viewBox", "0 0 " + w + " " + h);
      let lo = Infinity, hi = -Infinity;
      for (const s of series) for (const v of s.values) if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      if (band) for (let i = 0; i < band.center.length; i++) { const c = band.center[i], e = band.error[i]; if (isFinite(c) && isFinite(e)) { lo = Math.min(lo, c - e); hi = Math.max(hi, c + e); } }
      if (!isFinite(lo)) { svg.appendChild(svgEl("text", { x: 10, y: 70, "font-size": 12, fill: "#888" })).textContent = "no data yet"; return; }
      if (hi - lo < 1e-12) { hi += 0.5 * (Math.abs(hi) || 1); lo -= 0.5 * (Math.abs(lo) || 1); }
      const x = i => pad + (w - 2 * pad) * i / Math.max(1, HISTORY - 1);
      const y = v => h - pad - (h - 2 * pad) * (v - lo) / (hi - lo);
      svg.appendChild(svgEl("text", { x: w - 4, y: 12, "font-size": 10, "text-anchor": "end", fill: "#888" })).textContent = fmt(hi, 3);
      svg.appendChild(svgEl("text", { x: w - 4, y: h - 6, "font-size": 10, "text-anchor": "end", fill: "#888" })).textContent = fmt(lo, 3);
      if (band) {
        const upper = [], lower = [];
        band.center.forEach((c, i) => { const e = band.error[i]; if (isFinite(c) && isFinite(e)) { upper.push(x(i) + "," + y(c + e)); lower.unshift(x(i) + "," + y(c - e)); } });
        if (upper.length > 1) svg.appendChild(svgEl("polygon", { points: upper.concat(lower).join(" "), fill: "rgba(21,101,192,0.18)", stroke: "none", class: "error-band" }));
      }
      series.forEach((s, k) => {
        const pts = []; s.values.forEach((v, i) => { if (isFinite(v)) pts.push(x(i) + "," + y(v)); });
        if (pts.length > 0) svg.appendChild(svgEl("polyline", { points: pts.join(" "), fill: "none", stroke: s.color || COLORS[k % COLORS.length], "stroke-width": 1.8, class: "series" }));
      });
    }
    function render(status) {
      updates += 1; text("update-count", String(updates)); text("error", "");
      text("link-name", "QLink · " + status.link + " (" + status.role + ")");
      const state = document.getElementById("link-state"); state.textContent = status.state; state.className = "state " + status.state;
      text("uptime", "up " + fmt(status.uptimeSeconds, 4) + " s");
      const o = status.observation || {};
      const arms = o.armRatesHz || {};
      const names = Object.keys(arms).sort();
      for (const n of names) { if (!history.arms[n]) history.arms[n] = new Array(history.t.length).fill(NaN); }
      push(history.t, num(status.timePs));
      for (const n of Object.keys(history.arms)) push(history.arms[n], num(arms[n]));
      push(history.coincidences, num(o.coincidenceRateHz && o.coincidenceRateHz.value));
      push(history.fidelity, num(o.fidelity && o.fidelity.value));
      push(history.fidelityError, num(o.fidelity && o.fidelity.standardError));
      push(history.clock, num(o.clockOffsetPs));
      push(history.heralds, num(o.heraldRateHz && o.heraldRateHz.value));
      text("arm-rates", names.map(n => n + " " + fmt(arms[n])).join(" · ") || "–");
      text("coincidence-rate", fmt(o.coincidenceRateHz && o.coincidenceRateHz.value));
      text("car", fmt(o.car && o.car.value, 3));
      text("fidelity-value", status.fidelityText || "–");
      text("clock-offset", fmt(o.clockOffsetPs, 6)); text("clock-residual", fmt(o.clockResidualPs, 3));
      text("herald-rate", fmt(o.heraldRateHz && o.heraldRateHz.value));
      const armNames = Object.keys(history.arms).sort();
      draw("chart-arms", armNames.map((n, k) => ({ values: history.arms[n], color: COLORS[k % COLORS.length] })));
      const legend = document.getElementById("legend-arms"); legend.textContent = "";
      armNames.forEach((n, k) => { const s = document.createElement("span"); s.style.color = COLORS[k % COLORS.length]; s.textContent = "■ " + n; legend.appendChild(s); });
      draw("chart-coincidences", [{ values: history.coincidences }]);
      draw("chart-fidelity", [{ values: history.fidelity }], { center: history.fidelity, error: history.fidelityError });
      draw("chart-clock", [{ values: history.clock }]);
      draw("chart-heralds", [{ values: history.heralds }]);
      const alerts = document.getElementById("alerts"); alerts.textContent = "";
      if (!status.alerts || status.alerts.length === 0) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.colSpan = 4; td.textContent = "none"; tr.appendChild(td); alerts.appendChild(tr); }
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
      const analysis = document.getElementById("analysis"); analysis.textContent = "";
      const rows = status.analysisRows || [];
      if (rows.length === 0) { const tr = document.createElement("tr"); const td = document.createElement("td"); td.textContent = "no analysis yet"; tr.appendChild(td); analysis.appendChild(tr); }
      for (const row of rows) {
        const tr = document.createElement("tr");
        for (const v of [row.label, row.value]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
        analysis.appendChild(tr);
      }
      const t = status.tuning;
      text("tuning", t ? ("in force " + fmt(t.repetitionRateHz) + " Hz · recommended " + fmt(t.recommendedRateHz) + " Hz · auto-tune " + (t.autoTune ? "on" : "off") + (t.lastDecision ? " · " + t.lastDecision : "")) : "–");
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
    poll(); setInterval(poll, 1000);
    </script>
    </body>
    </html>
    """
}
