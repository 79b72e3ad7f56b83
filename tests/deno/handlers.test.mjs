// The Request -> Response handlers in Deno: `createQueueRequestHandler` served by
// `Deno.serve` on 127.0.0.1 (a free port) over in-memory storage, read with fetch. Deno's
// test sanitizers also check that no timer or resource of a stream outlives it.
// Run: deno test --allow-read --allow-net tests/deno/ (from the repository root, pkg/ built).

import init, {
  createQueueRequestHandler, InMemoryQueueStorage, JobQueueClient, JobQueueServer,
} from '../../pkg/wasm_job_queue.js';

const wasm = await Deno.readFile(new URL('../../pkg/wasm_job_queue_bg.wasm', import.meta.url));
await init({ module_or_path: wasm });

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** A queue `mail` on memory served under /queue; `executor` runs its jobs. */
function serve(executor) {
  const storage = new InMemoryQueueStorage('mail');
  const server = new JobQueueServer({ storage, queueName: 'mail', executor });
  const client = new JobQueueClient({ storage, queueName: 'mail' });
  client.attach(server);
  const handle = createQueueRequestHandler(client);
  const http = Deno.serve(
    { hostname: '127.0.0.1', port: 0, onListen() {} },
    (request) => handle(request) ?? new Response('not here', { status: 404 }),
  );
  const base = `http://127.0.0.1:${http.addr.port}/queue`;
  const submit = async (input) => {
    const r = await fetch(`${base}/mail/jobs`, { method: 'POST', body: JSON.stringify({ input }) });
    assert(r.status === 201, `submit: ${r.status}`);
    return (await r.json()).id;
  };
  return { server, client, http, base, submit };
}

const events = (sse) => sse.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));

Deno.test('Deno.serve serves job streams, metrics and status from the handler', async () => {
  const q = serve(async (input, ctx) => {
    await ctx.updateProgress(50, 'half', { step: 1 });
    await new Promise((r) => setTimeout(r, 20));
    return { sent: input.to };
  });
  try {
    const id = await q.submit({ to: 'a@example.com' });
    const stream = await fetch(`${q.base}/jobs/${id}/stream`);
    assert(stream.headers.get('content-type') === 'text/event-stream; charset=utf-8', 'SSE type');
    await q.server.start();
    const sse = await stream.text(); // ends when the job has
    assert(JSON.stringify(events(sse)) === '["state","progress","completed"]', sse);
    assert(sse.includes('data: {"progress":50,"message":"half","details":{"step":1}}\n'), sse);
    assert(sse.includes('data: {"output":{"sent":"a@example.com"}}\n'), sse);

    const metrics = await fetch(`${q.base}/metrics`);
    assert(metrics.headers.get('content-type') === 'text/plain; version=0.0.4; charset=utf-8', 'metrics type');
    const text = await metrics.text();
    for (const line of [
      'job_queue_jobs{queue="mail",status="completed"} 1',
      'job_queue_processed_total{queue="mail",outcome="completed"} 1',
      'job_queue_processing_seconds_count{queue="mail"} 1',
      '# TYPE job_queue_processing_seconds histogram',
    ]) assert(text.split('\n').includes(line), `${line} in\n${text}`);

    const status = await (await fetch(`${q.base}/status?status=completed`)).json();
    assert(status.queues[0].stats.completed === 1, JSON.stringify(status));
    assert(status.queues[0].jobs[0].id === id, JSON.stringify(status));
    const missing = await fetch(`${q.base}/jobs/none/stream`);
    assert(missing.status === 404 && (await missing.json()).error === 'JobNotFoundError', 'unknown job');
    const other = await fetch(`http://127.0.0.1:${q.http.addr.port}/elsewhere`);
    assert(other.status === 404 && (await other.text()) === 'not here', 'other paths fall through');
  } finally {
    await q.server.stop();
    await q.http.shutdown();
  }
});

Deno.test('a reader that goes away ends its stream, leaving no timer behind', async () => {
  const q = serve((_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)));
  try {
    await q.server.start();
    const id = await q.submit({ to: 'b@example.com' });
    const ctl = new AbortController();
    const stream = await fetch(`${q.base}/jobs/${id}/stream`, { signal: ctl.signal });
    const reader = stream.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert(first.startsWith('event: state\n'), first);
    ctl.abort();
    await reader.closed.catch(() => {});
  } finally {
    await q.server.stop({ graceful: false });
    await q.http.shutdown();
  }
});
