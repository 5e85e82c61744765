#!/usr/bin/python3
"""Drive stampede's live dashboard in headless Chromium over the DevTools
protocol, and say what the pages showed.

usage: web_check.py CHROME_PORT URL OUT.json [--stop-after N]

Opens URL in two tabs; once tab 1 shows 2 points it is reloaded; with
--stop-after N, tab 2 clicks the Stop button once it shows N points.
Waits (at most 120 s) until both tabs say the run ended, then writes, per
tab, what its page shows: the state, the points in its timeline, the
summary table's cells, the status line, and the thresholds' rows.
"""
import asyncio
import json
import sys
import urllib.request

import websockets

READ = r"""(() => {
  const t = document.querySelector('table[data-table="summary"]');
  const cells = {};
  if (t) for (const tr of t.querySelectorAll('tbody tr')) {
    const td = tr.querySelectorAll('td');
    if (td.length >= 2) cells[td[0].textContent.trim()] = td[1].textContent.trim();
  }
  const th = document.querySelector('table[data-table="thresholds"]');
  const rows = th ? [...th.querySelectorAll('tbody tr')].map(r =>
    [...r.querySelectorAll('td')].map(c => c.textContent.trim())) : [];
  return JSON.stringify({
    state: document.body.getAttribute('data-state'),
    points: Number(document.body.getAttribute('data-points') || 0),
    requests_attr: document.body.getAttribute('data-requests'),
    status: document.getElementById('status').textContent,
    stop_disabled: document.getElementById('stop').disabled,
    summary: cells, thresholds: rows,
    plots: document.querySelectorAll('svg').length,
    external: [...document.querySelectorAll('[src],[href]')].length
  });
})()"""


class Cdp:
    def __init__(self, ws):
        self.ws, self.n, self.waiting = ws, 0, {}

    async def pump(self):
        async for msg in self.ws:
            m = json.loads(msg)
            f = self.waiting.pop(m.get('id'), None)
            if f is not None:
                f.set_result(m)

    async def call(self, method, params=None, session=None):
        self.n += 1
        m = {'id': self.n, 'method': method, 'params': params or {}}
        if session:
            m['sessionId'] = session
        f = asyncio.get_running_loop().create_future()
        self.waiting[self.n] = f
        await self.ws.send(json.dumps(m))
        r = await asyncio.wait_for(f, 30)
        if 'error' in r:
            raise RuntimeError('%s: %s' % (method, r['error']))
        return r['result']

    async def tab(self, url):
        t = await self.call('Target.createTarget', {'url': url})
        a = await self.call('Target.attachToTarget',
                            {'targetId': t['targetId'], 'flatten': True})
        return a['sessionId']

    async def read(self, s):
        r = await self.call('Runtime.evaluate',
                            {'expression': READ, 'returnByValue': True}, s)
        v = r['result'].get('value')
        return json.loads(v) if v else {}


async def main():
    port, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
    stop_after = int(sys.argv[5]) if sys.argv[4:5] == ['--stop-after'] else 0
    ver = json.load(urllib.request.urlopen(
        'http://127.0.0.1:%s/json/version' % port, timeout=10))
    async with websockets.connect(ver['webSocketDebuggerUrl'],
                                  max_size=None) as ws:
        cdp = Cdp(ws)
        pump = asyncio.create_task(cdp.pump())
        tabs = [await cdp.tab(url), await cdp.tab(url)]
        seen = {'reloaded_at': None, 'points_after_reload': None,
                'stop_clicked_at': None}
        loop = asyncio.get_running_loop()
        end = loop.time() + 120
        last = [{}, {}]
        while loop.time() < end:
            last = [await cdp.read(s) for s in tabs]
            if seen['reloaded_at'] is None and last[0].get('points', 0) >= 2 \
                    and last[0].get('state') == 'running':
                seen['reloaded_at'] = last[0]['points']
                await cdp.call('Page.reload', {}, tabs[0])
            elif seen['reloaded_at'] is not None and \
                    seen['points_after_reload'] is None and \
                    last[0].get('state') in ('running', 'ended'):
                seen['points_after_reload'] = last[0].get('points')
            if stop_after and seen['stop_clicked_at'] is None and \
                    last[1].get('points', 0) >= stop_after:
                seen['stop_clicked_at'] = last[1]['points']
                await cdp.call('Runtime.evaluate', {
                    'expression': "document.getElementById('stop').click()"},
                    tabs[1])
            if all(t.get('state') == 'ended' for t in last):
                break
            await asyncio.sleep(0.2)
        seen['tabs'] = last
        pump.cancel()
    with open(out, 'w') as f:
        json.dump(seen, f, indent=1)


asyncio.run(main())
