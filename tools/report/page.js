// SPDX-License-Identifier: GPL-2.0-or-later
// hvmmio report's page script: draws DATA (written by tools/cmd-report.c) with Chart.js.
window.onerror = function (msg) {
  document.getElementById('errors').textContent += msg + '\n';
};
(function () {
  const D = DATA;
  const labels = D.reads.map((_, i) => (D.t0_ns + i * D.bin_ns) / 1e6);
  const fmt = (ms) => ms.toFixed(3) + ' ms';
  const common = { animation: false, responsive: true, maintainAspectRatio: false };
  // timeline: reads, writes and interrupts per bin, markers on top; zoom with the two sliders
  const marks = D.marks.map((m) => ({ x: (m.t_ns - D.t0_ns) / D.bin_ns, y: 0, text: m.text }));
  const timeline = new Chart(document.getElementById('timeline'), {
    type: 'bar',
    data: {
      labels: labels.map(fmt),
      datasets: [
        { label: 'reads', data: D.reads, backgroundColor: '#4e79a7', stack: 'a' },
        { label: 'writes', data: D.writes, backgroundColor: '#f28e2b', stack: 'a' },
        { label: 'interrupts', data: D.irqs, type: 'line', borderColor: '#e15759', pointRadius: 0 },
        { label: 'markers', data: marks, type: 'scatter', backgroundColor: '#59a14f',
          pointRadius: 6, pointStyle: 'triangle' },
      ],
    },
    options: Object.assign({}, common, {
      scales: { x: { stacked: true, ticks: { maxTicksLimit: 16 } }, y: { stacked: true } },
      plugins: { tooltip: { callbacks: { label: (c) => c.raw && c.raw.text ? c.raw.text :
        c.dataset.label + ': ' + c.formattedValue } } },
    }),
  });
  const from = document.getElementById('zoom-from'), to = document.getElementById('zoom-to');
  from.max = to.max = D.reads.length - 1;
  to.value = D.reads.length - 1;
  const zoom = () => {
    const a = Math.min(+from.value, +to.value), b = Math.max(+from.value, +to.value);
    timeline.options.scales.x.min = a;
    timeline.options.scales.x.max = b;
    timeline.update();
    heat.options.scales.x.min = a - 0.5;
    heat.options.scales.x.max = b + 0.5;
    heat.update();
    document.getElementById('zoom-range').textContent = fmt(labels[a]) + ' - ' + fmt(labels[b]);
  };
  from.oninput = to.oninput = zoom;
  // heatmap: accesses per register (rows) and time bin (columns)
  let max = 1;
  D.heat.forEach((row) => row.forEach((v) => { if (v > max) max = v; }));
  const cells = [];
  D.heat.forEach((row, r) => row.forEach((v, b) => { if (v) cells.push({ x: b, y: r, v: v }); }));
  const heat = new Chart(document.getElementById('heatmap'), {
    type: 'scatter',
    data: { datasets: [{ label: 'accesses', data: cells, pointStyle: 'rect',
      radius: Math.max(2, 500 / D.reads.length),
      backgroundColor: (c) => c.raw ? 'rgba(78,121,167,' + (0.15 + 0.85 * Math.log1p(c.raw.v) /
        Math.log1p(max)) + ')' : 'transparent' }] },
    options: Object.assign({}, common, {
      scales: {
        x: { min: -0.5, max: D.reads.length - 0.5, ticks: { callback: (v) => labels[v] !== undefined ?
          fmt(labels[v]) : '' } },
        y: { reverse: true, min: -0.5, max: D.heat_names.length - 0.5,
          afterBuildTicks: (axis) => { axis.ticks = D.heat_names.map((_, i) => ({ value: i })); },
          ticks: { autoSkip: false, callback: (v) => D.heat_names[v] || '' } },
      },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) =>
        D.heat_names[c.raw.y] + ' @ ' + fmt(labels[c.raw.x]) + ': ' + c.raw.v } } },
    }),
  });
  // the busiest registers' values (last value in each bin)
  const hist = document.getElementById('history');
  D.history.forEach((h) => {
    const box = document.createElement('div');
    box.className = 'chart small';
    const cv = document.createElement('canvas');
    box.appendChild(cv);
    hist.appendChild(box);
    new Chart(cv, {
      type: 'line',
      data: { labels: labels.map(fmt), datasets: [{ label: h.name, data: h.values, stepped: true,
        spanGaps: true, pointRadius: 0, borderColor: '#76b7b2' }] },
      options: Object.assign({}, common, { scales: { y: { ticks: { callback: (v) =>
        '0x' + Math.round(v).toString(16) } } } }),
    });
  });
  // top functions
  new Chart(document.getElementById('functions'), {
    type: 'bar',
    data: { labels: D.functions.map((f) => f.name), datasets: [{ label: 'accesses',
      data: D.functions.map((f) => f.count), backgroundColor: '#b07aa1' }] },
    options: Object.assign({}, common, { indexAxis: 'y' }),
  });
  document.body.setAttribute('data-ready', '1');
  document.getElementById('ready').textContent = 'ready';
})();
