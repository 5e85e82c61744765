(function () {
  'use strict';
  var COLORS = ['#1f6fd1', '#e8731a', '#2e9e4f', '#c62828'];
  var LAT = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'];
  var W = 600, H = 250, ML = 58, MR = 14, MT = 30, MB = 34;
  var app = document.getElementById('app');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
  function fmt(v, dec) {
    if (v === undefined || v === null) return '-';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v) && dec === undefined) return v.toLocaleString('en-US');
    return v.toLocaleString('en-US', { minimumFractionDigits: dec === undefined ? 3 : dec,
      maximumFractionDigits: dec === undefined ? 3 : dec });
  }
  function human(v, unit, base) {
    var pre = ['', 'k', 'M', 'G', 'T'], i = 0;
    if (typeof v !== 'number') return '-';
    if (base === 1024) pre = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
    while (Math.abs(v) >= base && i < pre.length - 1) { v /= base; i++; }
    return (i ? v.toFixed(2) : fmt(v)) + ' ' + pre[i] + unit;
  }
  function section(title, parent) {
    add(parent || app, el('h2', null, title));
    return add(parent || app, el('div', 'grid'));
  }
  function card(parent, title) {
    var c = add(parent, el('div', 'card'));
    if (title) add(c, el('h3', null, title));
    return c;
  }
  function table(parent, head, rows, name) {
    var t = add(parent, el('table')), tr, i, j, th, c;
    if (name) t.setAttribute('data-table', name);
    tr = add(add(t, el('thead')), el('tr'));
    for (i = 0; i < head.length; i++) {
      th = add(tr, el('th', i ? 'n' : null, head[i]));
      th.scope = 'col';
    }
    var tb = add(t, el('tbody'));
    for (i = 0; i < rows.length; i++) {
      tr = add(tb, el('tr'));
      for (j = 0; j < rows[i].length; j++) {
        c = rows[i][j];
        if (isObj(c)) add(tr, el('td', c.cls, c.text));
        else add(tr, el('td', j ? 'n' : 'name', c));
      }
    }
    return t;
  }
  function kv(parent, title, obj, labels) {
    var c = card(parent, title), rows = [], k;
    if (!isObj(obj)) { add(c, el('p', 'none', 'not in this report')); return c; }
    for (k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      var v = obj[k];
      rows.push([k, isObj(v) || Array.isArray(v) ? JSON.stringify(v) : fmt(v)]);
    }
    if (labels) rows = labels.map(function (l) { return [l, fmt(obj[l])]; });
    if (rows.length) table(c, ['', 'value'], rows);
    else add(c, el('p', 'none', 'none'));
    return c;
  }

  function header(r) {
    add(app, el('h1', null, 'stampede report'));
    var m = add(app, el('div', 'meta'));
    var items = [['target', r.target], ['model', r.model], ['source', r.source],
      ['elapsed', typeof r.elapsed_s === 'number' ? r.elapsed_s.toFixed(3) + ' s' : null],
      ['stopped by', r.stopped_by], ['mode', r.mode], ['report version', r.version]];
    items.forEach(function (it) {
      var d = add(m, el('div'));
      add(d, el('b', null, it[0]));
      add(d, el('span', it[0] === 'stopped by' && (it[1] === 'threshold' || it[1] === 'setup_failed') ? 'bad' : null, fmt(it[1])));
    });
    document.title = 'stampede report: ' + (r.target || '');
  }

  function summary(r) {
    var s = r.summary || {}, g = section('Summary'), c, rows, k;
    c = card(g, 'Requests');
    table(c, ['', 'value'], [
      ['requests', fmt(s.requests)], ['responses', fmt(s.responses)],
      [{ text: 'succeeded' }, { cls: s.nothing_succeeded === true ? 'n bad' : 'n', text: fmt(s.succeeded) }],
      [{ text: 'errors' }, { cls: s.errors ? 'n bad' : 'n', text: fmt(s.errors) }],
      ['interrupted', fmt(s.interrupted)], ['responses/s', fmt(s.rps, 1)],
      ['peak responses/s', fmt(s.peak_rps, 1)], ['load duration', fmt(s.duration_s) + ' s'],
      ['checks passed', fmt((s.checks || {}).passed)],
      [{ text: 'checks failed' }, { cls: (s.checks || {}).failed ? 'n bad' : 'n', text: fmt((s.checks || {}).failed) }]
    ], 'summary');

    c = card(g, 'Status codes');
    rows = [];
    for (k in s.codes || {}) {
      var share = s.responses ? (100 * s.codes[k] / s.responses).toFixed(2) + ' %' : '-';
      rows.push([{ cls: k >= 400 ? 'bad' : null, text: k }, fmt(s.codes[k]), share]);
    }
    if (rows.length) table(c, ['code', 'responses', 'share'], rows, 'codes');
    else add(c, el('p', 'none', 'no responses'));

    c = card(g, 'Errors by kind');
    rows = [];
    for (k in s.errors_by_kind || {}) if (s.errors_by_kind[k]) rows.push([k, fmt(s.errors_by_kind[k])]);
    if (rows.length) table(c, ['kind', 'count'], rows, 'errors');
    else add(c, el('p', 'none', 'no errors'));

    kv(g, 'Iterations', s.iterations, ['started', 'completed', 'failed', 'interrupted', 'dropped']);
    kv(g, 'Connections', s.connections, ['opened', 'reconnects', 'server_closes', 'lenient_closes', 'open_at_end']);
    c = card(g, 'Traffic (HTTP bytes)');
    var b = s.bytes || {}, bps = s.bits_per_s || {};
    table(c, ['', 'sent', 'received'], [
      ['bytes', fmt(b.sent), fmt(b.received)],
      ['', human(b.sent, 'B', 1024), human(b.received, 'B', 1024)],
      ['bits/s', human(bps.sent, 'bit/s', 1000), human(bps.received, 'bit/s', 1000)]
    ], 'bytes');
  }

  function latency(r) {
    var s = r.summary || {}, g = section('Latency (ms)'), c = card(g), rows = [];
    g.className = '';
    [['latency_ms', 'response'], ['connect_ms', 'connect'], ['tls_ms', 'TLS handshake'], ['ttfb_ms', 'time to first byte'],
     ['iteration_ms', 'iteration'], ['lag_ms', 'generator lag']].forEach(function (p) {
      var h = s[p[0]];
      if (!isObj(h) || (p[0] === 'tls_ms' && !isObj(r.tls))) return;
      rows.push([p[1] + ' (' + p[0] + ')'].concat(LAT.map(function (k) { return fmt(h[k]); })));
    });
    if (rows.length) table(c, ['', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows, 'latency');
    else add(c, el('p', 'none', 'no latency in this report'));
    if (s.lag_warning) add(c, el('p', 'fail', 'warning: the generator\'s own lag is ' +
      Math.round(100 * s.lag_share_p99) + ' % of the latency at p99: this machine, not only the server, shaped the figures'));
  }

  // WebSocket (a plan with a ws: step): sessions, failures by kind,
  // messages, close codes received, the three histograms.
  function websocket(r) {
    var w = r.ws, g, c, rows, k;
    if (!isObj(w)) return;
    g = section('WebSocket');
    kv(g, 'Sessions', w.sessions, ['started', 'completed', 'failed', 'interrupted', 'open_at_end']);
    c = card(g, 'Session failures by kind');
    rows = [];
    for (k in w.errors_by_kind || {}) if (w.errors_by_kind[k]) rows.push([k, fmt(w.errors_by_kind[k])]);
    if (rows.length) table(c, ['kind', 'sessions'], rows, 'ws_errors');
    else add(c, el('p', 'none', 'no failed sessions'));
    c = card(g, 'Messages');
    var m = w.messages || {}, b = w.bytes || {};
    table(c, ['', 'sent', 'received'], [
      ['messages', fmt(m.sent), fmt(m.received)],
      ['per second', fmt(m.sent_per_s, 1), fmt(m.received_per_s, 1)],
      ['bytes', human(b.sent, 'B', 1024), human(b.received, 'B', 1024)],
      ['pings sent, pongs', fmt(w.pings_sent), fmt(w.pongs_received)]
    ], 'ws_messages');
    table(c, ['', 'value'], [['matched by expect', fmt(m.matched)], ['unmatched', fmt(m.unmatched)],
      ['pings received', fmt(w.pings_received)], ['closes sent', fmt(w.closes_sent)]]);
    c = card(g, 'Close codes received');
    rows = [];
    for (k in w.close_codes || {}) rows.push([{ cls: k === '1000' ? null : 'bad', text: k }, fmt(w.close_codes[k])]);
    if (rows.length) table(c, ['code', 'close frames'], rows, 'ws_close');
    else add(c, el('p', 'none', 'no close frame received'));
    c = card(add(app, el('div')), 'WebSocket latency (ms)');
    rows = [];
    [['connect_ms', 'upgrade (ws.connect)'], ['rtt_ms', 'round trip (ws.rtt)'],
     ['session_ms', 'session (ws.session)']].forEach(function (p) {
      var h = w[p[0]];
      if (isObj(h)) rows.push([p[1]].concat(LAT.map(function (q) { return fmt(h[q]); })));
    });
    table(c, ['', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows, 'ws_latency');
  }

  function thresholds(r) {
    var g = section('Thresholds'), c = card(g), t = r.thresholds;
    g.className = '';
    if (!Array.isArray(t) || !t.length) { add(c, el('p', 'none', 'no thresholds')); return; }
    table(c, ['threshold', 'value', 'result'], t.map(function (x) {
      return [x.expr, fmt(x.value), { cls: x.ok ? 'ok' : 'fail', text: x.ok ? 'ok' : 'FAILED' }];
    }), 'thresholds');
  }

  function pct(h, k) { return isObj(h) ? fmt(h[k]) : '-'; }
  // The lifecycle's requests all together (lifecycle_summary), and a
  // failed setup's reason: the load did not run.
  function lifecycleSummary(r, g) {
    var l = r.lifecycle_summary, c;
    if (!isObj(l)) return;
    c = card(g, 'Lifecycle requests (not in the load\'s figures)');
    if (l.setup_ok === false)
      add(c, el('p', 'bad', 'setup failed: ' + l.setup_why + '; the load did not run'));
    table(c, ['requests', 'responses', 'succeeded', 'errors', 'interrupted', 'p50 ms', 'p99 ms',
      'max ms'], [[fmt(l.requests), fmt(l.responses), fmt(l.succeeded), fmt(l.errors),
      fmt(l.interrupted), pct(l.latency_ms, 'p50'), pct(l.latency_ms, 'p99'),
      pct(l.latency_ms, 'max')]], 'lifecycle_summary');
    add(g, el('div')).style.height = '14px';
  }
  function breakdown(r) {
    var g = section('Scenarios and requests'), c;
    g.className = '';
    c = card(g, 'Scenarios');
    if (Array.isArray(r.scenarios) && r.scenarios.length)
      table(c, ['scenario', 'weight', 'started', 'completed', 'failed', 'interrupted', 'dropped',
        'iteration p50 ms', 'p95 ms', 'p99 ms'], r.scenarios.map(function (x) {
        return [x.name, fmt(x.weight), fmt(x.started), fmt(x.completed), fmt(x.failed),
          fmt(x.interrupted), fmt(x.dropped), pct(x.iteration_ms, 'p50'), pct(x.iteration_ms, 'p95'),
          pct(x.iteration_ms, 'p99')];
      }), 'scenarios');
    else add(c, el('p', 'none', 'no scenarios'));
    add(g, el('div')).style.height = '14px';
    lifecycleSummary(r, g);
    c = card(g, 'Requests');
    if (Array.isArray(r.requests) && r.requests.length)
      table(c, ['request', 'started', 'responses', 'failed', 'check failed', 'status failed',
        'interrupted', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ttfb p50 ms'], r.requests.map(function (x) {
        return [x.name, fmt(x.started), fmt(x.responses), fmt(x.failed), fmt(x.check_failed),
          fmt(x.status_failed), fmt(x.interrupted), pct(x.latency_ms, 'p50'), pct(x.latency_ms, 'p95'),
          pct(x.latency_ms, 'p99'), pct(x.latency_ms, 'max'), pct(x.ttfb_ms, 'p50')];
      }), 'requests');
    else add(c, el('p', 'none', 'no requests'));
    if (Array.isArray(r.lifecycle) && r.lifecycle.length) {
      add(g, el('div')).style.height = '14px';
      c = card(g, 'Lifecycle (setup, teardown, per-VU set-up and tear-down: not in the load\'s figures)');
      table(c, ['steps', 'kind', 'started', 'completed', 'failed', 'interrupted', 'requests',
        'responses', 'failed requests'], r.lifecycle.map(function (x) {
        var q = Array.isArray(x.requests) ? x.requests : [], n = 0, resp = 0, bad = 0;
        q.forEach(function (y) { n += y.started || 0; resp += y.responses || 0; bad += y.failed || 0; });
        return [x.name, x.kind, fmt(x.started), fmt(x.completed), fmt(x.failed), fmt(x.interrupted),
          fmt(n), fmt(resp), fmt(bad)];
      }), 'lifecycle');
    }
    if (Array.isArray(r.cores) && r.cores.length) {
      add(g, el('div')).style.height = '14px';
      c = card(g, 'Cores');
      table(c, ['core', 'requests', 'responses', 'errors', 'connections'], r.cores.map(function (x) {
        return [fmt(x.core), fmt(x.requests), fmt(x.responses), fmt(x.errors), fmt(x.connections)];
      }), 'cores');
    }
  }

  var KNOWN = ['version', 'mode', 'target', 'source', 'model', 'elapsed_s', 'stopped_by', 'summary',
    'scenarios', 'lifecycle', 'requests', 'cores', 'thresholds', 'timeline', 'ws'];
  KNOWN.push('lifecycle_summary', 'breakpoint');
  function counters(r) {
    var g = section('Stack, NIC and generator counters'), scalars = {}, any = false, k;
    ['tcp', 'drops', 'nic', 'generator', 'pools', 'arp'].forEach(function (n) {
      if (isObj(r[n])) kv(g, n, r[n]);
    });
    for (k in r) {
      if (KNOWN.indexOf(k) >= 0 || ['tcp', 'drops', 'nic', 'generator', 'pools', 'arp'].indexOf(k) >= 0) continue;
      if (isObj(r[k])) kv(g, k, r[k]);
      else { scalars[k] = r[k]; any = true; }
    }
    if (any) kv(g, 'other', scalars);
  }

  function niceStep(max, n) {
    var raw = max / n, p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
  }
  function tick(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return +(v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return +(v / 1e3).toFixed(1) + 'k';
    return String(+v.toFixed(3));
  }
  function plot(parent, name, title, unit, tl, series) {
    var c = card(parent, title), host = el('div'), svg, NS, n = tl.length;
    host.innerHTML = '<svg></svg>';
    svg = host.firstChild;
    NS = svg.namespaceURI;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('data-plot', name);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', title);
    add(c, svg);
    function s(tag, attrs, text) {
      var e = document.createElementNS(NS, tag), a;
      for (a in attrs) e.setAttribute(a, attrs[a]);
      if (text !== undefined) e.textContent = text;
      return add(svg, e);
    }
    if (!n) {
      s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'class': 'empty' }, 'no timeline');
      svg.setAttribute('data-drawn', '0');
      return;
    }
    var x0 = tl[0].t, x1 = tl[n - 1].t, ymax = 0, i, j, v;
    if (x1 <= x0) x0 = x1 - 1;
    for (j = 0; j < series.length; j++)
      for (i = 0; i < n; i++) {
        v = series[j].get(tl[i]);
        if (typeof v === 'number' && v > ymax) ymax = v;
      }
    var ystep = niceStep(ymax > 0 ? ymax : 1, 4), ytop = Math.ceil((ymax > 0 ? ymax : 1) / ystep) * ystep;
    var pw = W - ML - MR, ph = H - MT - MB;
    function X(t) { return ML + (t - x0) / (x1 - x0) * pw; }
    function Y(y) { return MT + ph - y / ytop * ph; }
    for (v = 0; v <= ytop + ystep / 2; v += ystep) {
      s('line', { x1: ML, x2: W - MR, y1: Y(v), y2: Y(v), 'class': v ? 'gridline' : 'axis' });
      s('text', { x: ML - 6, y: Y(v) + 4, 'text-anchor': 'end' }, tick(v));
    }
    var xstep = niceStep(x1 - x0, 6);
    for (v = Math.ceil(x0 / xstep) * xstep; v <= x1 + 1e-9; v += xstep) {
      s('line', { x1: X(v), x2: X(v), y1: MT + ph, y2: MT + ph + 4, 'class': 'axis' });
      s('text', { x: X(v), y: MT + ph + 16, 'text-anchor': 'middle' }, tick(v));
    }
    s('line', { x1: ML, x2: ML, y1: MT, y2: MT + ph, 'class': 'axis' });
    s('text', { x: W - MR, y: H - 4, 'text-anchor': 'end' }, 't (s)');
    s('text', { x: 4, y: 12 }, unit);
    var lx = ML + 8;
    for (j = 0; j < series.length; j++) {
      var d = [];
      for (i = 0; i < n; i++) {
        v = series[j].get(tl[i]);
        d.push((i ? 'L' : 'M') + X(tl[i].t).toFixed(1) + ' ' + Y(typeof v === 'number' ? v : 0).toFixed(1));
      }
      s('path', { d: d.join(' '), 'class': 'line', stroke: series[j].color || COLORS[j] });
      if (n === 1)
        s('circle', { cx: X(tl[0].t), cy: Y(series[j].get(tl[0]) || 0), r: 3, fill: series[j].color || COLORS[j] });
      s('rect', { x: lx, y: 8, width: 14, height: 4, fill: series[j].color || COLORS[j] });
      s('text', { x: lx + 18, y: 14 }, series[j].label);
      lx += 30 + series[j].label.length * 6.2;
    }
    svg.setAttribute('data-drawn', String(n));
    v = series[0].get(tl[n - 1]);
    svg.setAttribute('data-last', typeof v === 'number' ? String(+v.toFixed(3)) : '');
  }
  function field(k) { return function (p) { return p[k]; }; }
  // A partial second (the end of the run) holds counts of less than a
  // second: per second, they are scaled by its length (no cliff).
  function perSec(k) {
    return function (p) {
      var v = p[k];
      return p.partial === true && typeof v === 'number' && p.length_s > 0 ? v / p.length_s : v;
    };
  }
  function plots(r) {
    var tl = Array.isArray(r.timeline) ? r.timeline : [];
    add(app, el('h2', null, 'Over time'));
    var g = add(app, el('div', 'plots'));
    plot(g, 'rps', 'Requests per second', 'per s', tl, [
      { label: 'responses/s', get: perSec('responses') },
      { label: 'requests/s', get: perSec('requests') }]);
    plot(g, 'latency', 'Latency percentiles', 'ms', tl, [
      { label: 'p50', get: field('p50_ms') },
      { label: 'p95', get: field('p95_ms') },
      { label: 'p99', get: field('p99_ms'), color: COLORS[3] }]);
    plot(g, 'errors', 'Errors and dropped iterations per second', 'per s', tl, [
      { label: 'errors/s', get: perSec('errors'), color: COLORS[3] },
      { label: 'dropped/s', get: perSec('dropped'), color: COLORS[1] }]);
    plot(g, 'vus', 'Virtual users and connections', 'count', tl, [
      { label: 'VUs', get: field('vus') },
      { label: 'connections', get: field('conns'), color: COLORS[2] }]);
    if (isObj(r.ws))
      plot(g, 'ws', 'WebSocket messages per second', 'per s', tl, [
        { label: 'received/s', get: perSec('ws_received') },
        { label: 'sent/s', get: perSec('ws_sent') },
        { label: 'open sessions', get: field('ws_open'), color: COLORS[2] }]);
  }

  // A capacity hunt (load model breakpoint): the outcome, achieved and
  // latency against offered load with every step a point coloured by its
  // verdict, the knee, the capacity and the broken SLO marked, the steps.
  var VERDICT = { pass: '#2e9e4f', fail: '#c62828', generator: '#e8731a', cut: '#7a8294' };
  function num(v) { return typeof v === 'number' && !Number.isInteger(v) ? fmt(v, 1) : fmt(v); }
  // The latency SLO a failing step broke, from its why ("p(99) < 50ms
  // (751.615)"): {expr, ms}, or null when no failing step broke one.
  function latencySlo(steps) {
    var re = /^(?:latency\.)?(p\([0-9.]+\)|med|avg|min|max)\s*(<=?)\s*([0-9.]+)\s*(us|ms|s)?\s*\(/, i, m, v;
    for (i = 0; i < steps.length; i++) {
      if (steps[i].verdict !== 'fail' || typeof steps[i].why !== 'string') continue;
      m = re.exec(steps[i].why);
      if (!m) continue;
      v = parseFloat(m[3]);
      if (!isFinite(v)) continue;
      v = m[4] === 'us' ? v / 1000 : m[4] === 's' ? v * 1000 : v;
      return { expr: steps[i].why.replace(/\s*\([^()]*\)\s*$/, ''), ms: v };
    }
    return null;
  }
  // An x-y plot of the steps. o: {name, title, xunit, yunit, steps,
  // series: [{key, label, get, hollow}], log, lines: [[x0, y0, x1, y1,
  // cls, label]], xmarks: [{name, x, label, cls}], ymarks: [{name, y,
  // label}], curve: function (x) or null}.
  function xyPlot(parent, o) {
    var c = card(parent, o.title), host = el('div'), svg, NS, st = o.steps, n = st.length;
    host.innerHTML = '<svg></svg>';
    svg = host.firstChild;
    NS = svg.namespaceURI;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('data-plot', o.name);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', o.title);
    add(c, svg);
    function s(tag, attrs, text, into) {
      var e = document.createElementNS(NS, tag), a;
      for (a in attrs) e.setAttribute(a, attrs[a]);
      if (text !== undefined) e.textContent = text;
      return add(into || svg, e);
    }
    if (!n) {
      s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'class': 'empty' }, 'no steps');
      svg.setAttribute('data-drawn', '0');
      return;
    }
    var xmax = 0, ymax = 0, ymin = Infinity, i, j, v, k;
    function seeY(y) {
      if (typeof y !== 'number' || !isFinite(y)) return;
      if (y > ymax) ymax = y;
      if (y > 0 && y < ymin) ymin = y;
    }
    for (i = 0; i < n; i++) {
      if (st[i].offered > xmax) xmax = st[i].offered;
      for (j = 0; j < o.series.length; j++) seeY(o.series[j].get(st[i]));
    }
    o.xmarks.forEach(function (m) { if (m.x > xmax) xmax = m.x; });
    o.ymarks.forEach(function (m) { seeY(m.y); });
    var pw = W - ML - MR, ph = H - MT - MB;
    var xstep = niceStep(xmax > 0 ? xmax : 1, 6), xtop = Math.ceil((xmax > 0 ? xmax : 1) / xstep) * xstep;
    if (o.curve)
      for (k = 0; k <= 100; k++) seeY(o.curve(xtop * k / 100));
    var log = o.log && ymin < Infinity && ymax / ymin > 20, lo, hi, ystep, ytop;
    if (log) {
      lo = Math.floor(Math.log(ymin) / Math.LN10);
      hi = Math.ceil(Math.log(ymax) / Math.LN10);
      if (hi <= lo) hi = lo + 1;
    } else {
      ystep = niceStep(ymax > 0 ? ymax : 1, 4);
      ytop = Math.ceil((ymax > 0 ? ymax : 1) / ystep) * ystep;
    }
    function X(x) { return ML + x / xtop * pw; }
    function Y(y) {
      if (!log) return MT + ph - y / ytop * ph;
      var l = y > 0 ? Math.log(y) / Math.LN10 : lo;
      if (l < lo) l = lo;
      return MT + ph - (l - lo) / (hi - lo) * ph;
    }
    if (log) {
      for (k = lo; k <= hi; k++)
        [1, 2, 5].forEach(function (m) {
          var y = m * Math.pow(10, k), l = k + Math.log(m) / Math.LN10;
          if (l > hi + 1e-9 || (m !== 1 && hi - lo > 3)) return;
          s('line', { x1: ML, x2: W - MR, y1: Y(y), y2: Y(y), 'class': k === lo && m === 1 ? 'axis' : 'gridline' });
          s('text', { x: ML - 6, y: Y(y) + 4, 'text-anchor': 'end' }, tick(y));
        });
    } else {
      for (v = 0; v <= ytop + ystep / 2; v += ystep) {
        s('line', { x1: ML, x2: W - MR, y1: Y(v), y2: Y(v), 'class': v ? 'gridline' : 'axis' });
        s('text', { x: ML - 6, y: Y(v) + 4, 'text-anchor': 'end' }, tick(v));
      }
    }
    for (v = 0; v <= xtop + xstep / 2; v += xstep) {
      s('line', { x1: X(v), x2: X(v), y1: MT + ph, y2: MT + ph + 4, 'class': 'axis' });
      s('text', { x: X(v), y: MT + ph + 16, 'text-anchor': 'middle' }, tick(v));
    }
    s('line', { x1: ML, x2: ML, y1: MT, y2: MT + ph, 'class': 'axis' });
    s('text', { x: W - MR, y: H - 4, 'text-anchor': 'end' }, 'offered (' + o.xunit + ')');
    s('text', { x: 4, y: 12 }, o.yunit + (log ? ', log' : ''));
    // Reference lines (y = x), clipped to the plot.
    o.lines.forEach(function (l) {
      var x1 = Math.min(l[2], xtop), y1 = l[1] + (l[3] - l[1]) * (x1 - l[0]) / (l[2] - l[0]);
      if (!log && y1 > ytop) { x1 = l[0] + (l[2] - l[0]) * (ytop - l[1]) / (l[3] - l[1]); y1 = ytop; }
      s('line', { x1: X(l[0]), y1: Y(l[1]), x2: X(x1), y2: Y(y1), 'class': l[4], 'data-marker': l[5] });
    });
    if (o.curve) {
      var d = [];
      for (k = 0; k <= 100; k++) {
        v = o.curve(xtop * k / 100);
        if (typeof v === 'number' && isFinite(v)) d.push((d.length ? 'L' : 'M') + X(xtop * k / 100).toFixed(1) + ' ' + Y(v).toFixed(1));
      }
      s('path', { d: d.join(' '), 'class': 'model', 'data-marker': 'usl' });
    }
    o.ymarks.forEach(function (m) {
      s('line', { x1: ML, x2: W - MR, y1: Y(m.y), y2: Y(m.y), 'class': 'slo', 'data-marker': m.name, 'data-y': String(m.y) });
      s('text', { x: W - MR - 2, y: Y(m.y) - 4, 'text-anchor': 'end', 'class': 'slo' }, m.label);
    });
    o.xmarks.forEach(function (m, idx) {
      s('line', { x1: X(m.x).toFixed(1), x2: X(m.x).toFixed(1), y1: MT, y2: MT + ph, 'class': m.cls, 'data-marker': m.name, 'data-x': String(m.x) });
      s('text', { x: X(m.x) + 3, y: MT + 10 + 12 * idx, 'class': m.cls }, m.label);
    });
    // The steps through the curve (by offered load), then every step a point.
    for (j = 0; j < o.series.length; j++) {
      var by = {}, sorted = [];
      st.forEach(function (p) {   // a repeat: the later, longer measure wins
        if (p.verdict === 'pass' || p.verdict === 'fail') by[p.offered] = p;
      });
      for (k in by) sorted.push(by[k]);
      sorted.sort(function (a, b) { return a.offered - b.offered; });
      var pts = sorted.map(function (p) {
        v = o.series[j].get(p);
        return X(p.offered).toFixed(1) + ',' + Y(typeof v === 'number' ? v : 0).toFixed(1);
      });
      if (pts.length > 1)
        s('polyline', { points: pts.join(' '), 'class': 'trace' + (o.series[j].hollow ? ' thin' : '') });
    }
    for (j = 0; j < o.series.length; j++)
      for (i = 0; i < n; i++) {
        var p = st[i], col = VERDICT[p.verdict] || VERDICT.cut;
        v = o.series[j].get(p);
        var dot = s('circle', { cx: X(p.offered).toFixed(1), cy: Y(typeof v === 'number' ? v : 0).toFixed(1),
          r: p.kind === 'confirm' ? 5 : 3.5, 'class': 'pt', 'data-series': o.series[j].key, 'data-step': String(i),
          'data-verdict': String(p.verdict), fill: o.series[j].hollow ? '#fff' : col, stroke: col });
        s('title', {}, (i + 1) + ' ' + p.kind + ': offered ' + num(p.offered) + ', ' + o.series[j].label + ' ' +
          num(v) + ', ' + p.verdict + (p.why ? ': ' + p.why : ''), dot);
      }
    var lx = ML + 40;
    o.series.forEach(function (q) {
      s('circle', { cx: lx + 4, cy: 10, r: 3.5, fill: q.hollow ? '#fff' : '#3a4252', stroke: '#3a4252' });
      s('text', { x: lx + 11, y: 14 }, q.label);
      lx += 24 + q.label.length * 6.2;
    });
    ['pass', 'fail', 'generator'].forEach(function (q) {
      s('circle', { cx: lx + 4, cy: 10, r: 3.5, fill: VERDICT[q] });
      s('text', { x: lx + 11, y: 14 }, q);
      lx += 24 + q.length * 6.2;
    });
    if (o.curve) {
      s('line', { x1: lx, x2: lx + 14, y1: 10, y2: 10, 'class': 'model' });
      s('text', { x: lx + 18, y: 14 }, 'USL fit');
    }
    svg.setAttribute('data-drawn', String(n));
  }
  function capacity(r) {
    var b = r.breakpoint, g, c, steps, vus, unit, x, gen, rows, u, slo, i;
    if (!isObj(b)) return;
    steps = Array.isArray(b.steps) ? b.steps : [];
    vus = b.control === 'vus';
    unit = vus ? 'VUs' : 'req/s';
    function at(v) { return num(v) + ' ' + unit; }
    g = section('Capacity');
    g.className = '';
    g.setAttribute('data-card', 'capacity');
    c = card(g, 'Capacity hunt over ' + (vus ? 'the number of VUs' : 'the arrival rate'));
    for (i = steps.length - 1; i >= 0 && gen === undefined; i--)
      if (steps[i].verdict === 'generator') gen = steps[i].offered;
    if (b.outcome === 'found') x = ['ok', 'capacity ' + at(b.capacity) + ', found and confirmed'];
    else if (b.outcome === 'at_max') x = ['ok', 'capacity at least ' + at(b.capacity) +
      ': every step held up to the maximum, confirmed there'];
    else if (b.outcome === 'none_passed') x = ['bad', 'no capacity: no step held its SLOs' +
      (b.failed_at ? ' (failed at ' + at(b.failed_at) + ')' : '')];
    else if (b.outcome === 'generator_limit') x = ['bad', 'the generator broke first at ' +
      at(gen !== undefined ? gen : b.failed_at) + ': not a capacity of the server\'s' +
      (b.held_up_to ? ' (the server held up to ' + at(b.held_up_to) + ')' : '')];
    else if (b.outcome === 'unconfirmed') x = ['bad', 'unconfirmed: the run ended before a confirmation trial held' +
      (b.held_up_to ? ' (held up to ' + at(b.held_up_to) + ')' : '')];
    else x = ['bad', 'cut before an outcome' + (b.held_up_to ? ' (held up to ' + at(b.held_up_to) + ')' : '')];
    add(c, el('p', 'outcome ' + x[0], x[1])).setAttribute('data-outcome', String(b.outcome));
    var kn = isObj(b.knee) ? b.knee : {};
    c = add(c, el('div', 'facts'));
    table(c, ['', 'value'], [['held up to', b.held_up_to ? at(b.held_up_to) : 'none'],
      ['failed at', b.failed_at ? at(b.failed_at) : 'none'], ['limited by', fmt(b.limited_by)],
      ['knee of throughput (Kneedle)', typeof kn.throughput === 'number' ? at(kn.throughput) : 'none'],
      ['knee of latency (Kneedle)', typeof kn.latency === 'number' ? at(kn.latency) : 'none']], 'breakpoint');
    u = isObj(b.usl) ? b.usl : null;
    if (u) {
      add(c, el('h3', null, 'Universal Scalability Law fit'));
      table(c, ['sigma (contention)', 'kappa (coherency)', 'predicted peak', 'R\u00b2'], [[fmt(u.sigma, 4), fmt(u.kappa, 6),
        u.peak_vus < 0 ? 'none (kappa 0)' : fmt(u.peak_vus, 1) + ' VUs at ' + fmt(u.peak_rps, 1) + ' req/s',
        fmt(u.r2, 3)]], 'breakpoint_usl');
    }
    var marks = function (knee) {
      var m = [];
      if (typeof knee === 'number') m.push({ name: 'knee', x: knee, label: 'knee', cls: 'knee' });
      if (typeof b.capacity === 'number') m.push({ name: 'capacity', x: b.capacity, label: 'capacity', cls: 'capacity' });
      if (b.outcome === 'generator_limit' && gen !== undefined)
        m.push({ name: 'generator', x: gen, label: 'generator broke', cls: 'genmark' });
      return m;
    };
    var pg = add(g, el('div', 'plots'));
    xyPlot(pg, { name: 'bp_throughput', title: 'Achieved against offered', xunit: unit, yunit: 'per s',
      steps: steps, log: false, series: [{ key: 'achieved', label: 'achieved', get: field('achieved') }],
      lines: vus ? [] : [[0, 0, 1e300, 1e300, 'ideal', 'ideal']], xmarks: marks(kn.throughput), ymarks: [],
      curve: u ? function (n) { return u.lambda * n / (1 + u.sigma * (n - 1) + u.kappa * n * (n - 1)); } : null });
    slo = latencySlo(steps);
    xyPlot(pg, { name: 'bp_latency', title: 'Latency against offered', xunit: unit, yunit: 'ms',
      steps: steps, log: true, series: [{ key: 'p99', label: 'p99', get: field('p99_ms') },
        { key: 'p50', label: 'p50', get: field('p50_ms'), hollow: true }],
      lines: [], xmarks: marks(kn.latency), ymarks: slo ? [{ name: 'slo', y: slo.ms, label: 'SLO ' + slo.expr }] : [],
      curve: null });
    add(g, el('div')).style.height = '14px';
    c = card(g, 'Steps');
    rows = steps.map(function (p) {
      return [p.kind, num(p.offered), fmt(p.achieved, 1), fmt(p.p50_ms), fmt(p.p95_ms), fmt(p.p99_ms),
        fmt(p.p999_ms), { cls: p.errors ? 'n bad' : 'n', text: fmt(p.errors) },
        { cls: p.dropped ? 'n bad' : 'n', text: fmt(p.dropped) }, fmt(p.busy_pct, 1),
        { cls: p.verdict === 'pass' ? 'ok' : p.verdict === 'fail' ? 'fail' : 'gen', text: p.verdict },
        { cls: 'name', text: p.why || '' }];
    });
    table(c, ['kind', 'offered ' + unit, 'achieved/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'errors',
      'dropped', 'busy %', 'verdict', 'why'], rows, 'breakpoint_steps');
  }

  function raw(text) {
    add(app, el('h2', null, 'The JSON report'));
    var d = add(app, el('details'));
    add(d, el('summary', null, 'show the report this page was made from'));
    add(d, el('pre', null, text));
  }

  // The whole page from a report: the file's own (embedded), or the live
  // dashboard's (live.js calls it each second with the run so far, and
  // opts.live: no raw JSON block, which would be rebuilt every second).
  function render(r, opts) {
    app.textContent = '';
    header(r);
    summary(r);
    capacity(r);
    plots(r);
    latency(r);
    websocket(r);
    thresholds(r);
    breakdown(r);
    counters(r);
    if (!(opts && opts.live)) raw(JSON.stringify(r, null, 1));
  }
  window.stampedeRender = render;

  var src = document.getElementById('report');
  if (!src) return;
  try {
    render(JSON.parse(src.textContent));
    document.body.setAttribute('data-ready', '1');
  } catch (e) {
    app.textContent = '';
    add(app, el('p', 'error', 'cannot show this report: ' + e));
    document.body.setAttribute('data-error', String(e));
  }
})();
