// tools/bench's Artillery processor (tools/bench-ws.sh): the VUs' loop runs
// for WSB_SECS seconds from its first call, and each echo's round trip
// (t0 before the send, t1 once its capture took the answer) goes to the
// histogram ws_rtt, whose percentiles Artillery's report has.
let end = 0;
module.exports = {
  running(ctx, next) {
    const now = Date.now();
    if (end === 0) end = now + Number(process.env.WSB_SECS || 5) * 1000;
    return next(now < end);
  },
  t0(ctx, ee, done) { ctx.vars.t0 = process.hrtime.bigint(); done(); },
  t1(ctx, ee, done) {
    ee.emit('histogram', 'ws_rtt', Number(process.hrtime.bigint() - ctx.vars.t0) / 1e6);
    done();
  }
};
