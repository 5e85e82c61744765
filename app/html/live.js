// The live dashboard (stampede run --web): the run's server-sent events,
// rendered by report.js's stampedeRender each second. "point" events build
// the timeline, "report" is the run so far (no timeline), "progress" the
// bar, "end" the final report whole; "reset" starts over (a reconnection
// replays everything).
(function () {
  'use strict';
  var points = [], report = null, ended = false, stopping = false;
  var status = document.getElementById('status');
  var done = document.getElementById('done');
  var stop = document.getElementById('stop');
  var body = document.body;

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? 'bad' : '';
  }
  function draw() {
    if (!report) return;
    if (!ended) report.timeline = points;
    window.stampedeRender(report, { live: !ended });
    body.setAttribute('data-points', String(report.timeline.length));
    body.setAttribute('data-requests', String((report.summary || {}).requests));
  }
  var es = new EventSource('events');
  es.addEventListener('reset', function () {
    points = [];
  });
  es.addEventListener('point', function (e) {
    var p = JSON.parse(e.data);
    delete p.run;
    points.push(p);
  });
  es.addEventListener('report', function (e) {
    report = JSON.parse(e.data);
    draw();
    body.setAttribute('data-state', 'running');
  });
  es.addEventListener('progress', function (e) {
    var p = JSON.parse(e.data), d = p.duration_s;
    done.style.width = (d > 0 ? Math.min(100, 100 * p.elapsed_s / d) : 100) + '%';
    say((p.stopping || stopping ? 'stopping: ' : 'running: ') + p.elapsed_s.toFixed(0) +
      ' s of ' + d.toFixed(0) + ' s');
  });
  es.addEventListener('end', function (e) {
    ended = true;
    es.close();
    report = JSON.parse(e.data);
    draw();
    done.style.width = '100%';
    stop.disabled = true;
    say('finished: stopped by ' + report.stopped_by + ' after ' +
      (report.elapsed_s || 0).toFixed(1) + ' s');
    body.setAttribute('data-state', 'ended');
  });
  es.onerror = function () {
    if (!ended) say('disconnected from stampede: retrying', true);
  };
  stop.addEventListener('click', function () {
    stop.disabled = true;
    stopping = true;
    say('stopping');
    fetch('stop', { method: 'POST', headers: { 'X-Stampede-Stop': '1' } }).then(function (r) {
      if (!r.ok) { stop.disabled = false; say('the stop was refused: ' + r.status, true); }
    }, function () { stop.disabled = false; say('the stop did not reach stampede', true); });
  });
})();
