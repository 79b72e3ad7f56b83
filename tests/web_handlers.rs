//! Browser tests of the `Request -> Response` handlers on memory storage: status codes,
//! headers and bodies of each, the job stream's events, and the router's decisions.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_job_queue::js::{
    InMemoryQueueStorage, JobQueueClient, JobQueueServer, create_queue_request_handler,
    create_queue_service, job_stream_response, queue_dashboard_response, queue_metrics_response,
    queue_status_response,
};
use web_sys::{AbortController, Request, RequestInit, Response};

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = "http://localhost";

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(v: &JsValue, path: &str) -> JsValue {
    path.split('.')
        .fold(v.clone(), |v, k| Reflect::get(&v, &k.into()).unwrap())
}

/// A queue `q` on memory with a client and a server whose executor is `body` (JS, with
/// `input` and `ctx`), not started.
fn queue(body: &str) -> (JobQueueClient, JobQueueServer) {
    let storage: JsValue = InMemoryQueueStorage::new("q").unwrap().into();
    let executor = Function::new_with_args("input, ctx", body);
    let server = JobQueueServer::new(obj(&[
        ("storage", storage.clone()),
        ("queueName", "q".into()),
        ("executor", executor.into()),
    ]))
    .unwrap();
    let client =
        JobQueueClient::new(obj(&[("storage", storage), ("queueName", "q".into())])).unwrap();
    client.attach(&server);
    (client, server)
}

/// The client as a handlers' target (a JS value of its own).
fn t(client: &JobQueueClient) -> JsValue {
    client.share_handle().into()
}

async fn resolve(p: Promise) -> JsValue {
    JsFuture::from(p).await.unwrap()
}

async fn submit(client: &JobQueueClient, input: JsValue) -> String {
    let handle = resolve(client.submit(input, None)).await;
    get(&handle, "id").as_string().unwrap()
}

fn request(method: &str, path: &str, body: Option<&str>) -> Request {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&b.into());
    }
    Request::new_with_str_and_init(&format!("{ORIGIN}{path}"), &init).unwrap()
}

async fn response(p: Promise) -> Response {
    resolve(p).await.dyn_into().unwrap()
}

async fn text(r: &Response) -> String {
    resolve(r.text().unwrap()).await.as_string().unwrap()
}

async fn json(r: &Response) -> JsValue {
    JSON::parse(&text(r).await).unwrap()
}

fn header(r: &Response, name: &str) -> String {
    r.headers().get(name).unwrap().unwrap_or_default()
}

/// The `event:` names of an SSE text, in order.
fn event_names(sse: &str) -> Vec<&str> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect()
}

#[wasm_bindgen_test]
async fn status_lists_counts_and_pages_of_jobs_and_names_a_bad_parameter() {
    let (client, _server) = queue("return input");
    for n in 0..3 {
        submit(&client, n.into()).await;
    }
    let r = response(queue_status_response(
        t(&client),
        request("GET", "/queue/status", None).into(),
    ))
    .await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("application/json"));
    let body = json(&r).await;
    let q = get(&body, "queues.0");
    assert_eq!(get(&q, "name"), "q");
    assert_eq!(get(&q, "stats.waiting"), 3.0);
    assert_eq!(get(&q, "stats.completed"), 0.0);
    assert_eq!(get(&q, "stats.total"), 3.0);
    assert_eq!(get(&q, "jobs.length"), 3.0);
    let page = "/queue/status?status=waiting&limit=2&offset=1";
    let r = response(queue_status_response(
        t(&client),
        request("GET", page, None).into(),
    ))
    .await;
    let jobs = get(&json(&r).await, "queues.0.jobs");
    assert_eq!(get(&jobs, "length"), 2.0);
    assert_eq!(get(&jobs, "0.input"), 1.0);
    let not_a_request = JsFuture::from(queue_status_response(t(&client), "/status".into())).await;
    assert_eq!(
        get(&not_a_request.unwrap_err(), "name"),
        "InvalidOptionsError"
    );
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("status=running", "status"),
        ("offset=x", "offset"),
        ("queue=other", "queue"),
        ("sort=asc", "sort"),
    ] {
        let path = format!("/queue/status?{query}");
        let r = response(queue_status_response(
            t(&client),
            request("GET", &path, None).into(),
        ))
        .await;
        assert_eq!(r.status(), 400, "{query}");
        let body = json(&r).await;
        assert_eq!(get(&body, "error"), "InvalidOptionsError");
        assert_eq!(get(&body, "parameter"), parameter);
    }
}

#[wasm_bindgen_test]
async fn metrics_are_prometheus_text_with_every_status_and_the_runs_processed() {
    let (client, server) = queue("return input");
    resolve(server.start()).await;
    let id = submit(&client, 1.into()).await;
    resolve(client.wait_for(id.into(), None)).await;
    let r = response(queue_metrics_response(t(&client))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let t = text(&r).await;
    assert!(t.contains("# TYPE job_queue_jobs gauge\n"));
    assert!(t.contains("job_queue_jobs{queue=\"q\",status=\"completed\"} 1\n"));
    assert!(t.contains("job_queue_jobs{queue=\"q\",status=\"cancelled\"} 0\n"));
    assert!(t.contains("job_queue_processed_total{queue=\"q\",outcome=\"completed\"} 1\n"));
    assert!(t.contains("job_queue_processing_seconds_count{queue=\"q\"} 1\n"));
    assert!(t.contains("job_queue_processing_seconds_bucket{queue=\"q\",le=\"+Inf\"} 1\n"));
    resolve(server.stop(None)).await;
}

#[wasm_bindgen_test]
async fn a_stream_sends_state_progress_and_the_end_then_closes_and_unknown_ids_are_404() {
    let (client, server) = queue(
        "return ctx.updateProgress(50, 'half', { step: 1 }).then(() => ({ doubled: input * 2 }))",
    );
    let id = submit(&client, 21.into()).await;
    let r = response(job_stream_response(t(&client), id.clone().into(), None)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(header(&r, "cache-control"), "no-store");
    resolve(server.start()).await;
    let sse = text(&r).await; // resolves once the stream closes
    assert_eq!(event_names(&sse), vec!["state", "progress", "completed"]);
    assert!(sse.contains(
        "event: progress\ndata: {\"progress\":50,\"message\":\"half\",\"details\":{\"step\":1}}\n\n"
    ));
    assert!(sse.contains("event: completed\ndata: {\"output\":{\"doubled\":42}}\n\n"));
    // A finished job: its state and its end at once.
    let r = response(job_stream_response(t(&client), id.into(), None)).await;
    assert_eq!(event_names(&text(&r).await), vec!["state", "completed"]);
    let r = response(job_stream_response(t(&client), "nope".into(), None)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(get(&json(&r).await, "error"), "JobNotFoundError");
    resolve(server.stop(None)).await;
}

#[wasm_bindgen_test]
async fn a_stream_ends_when_its_signal_aborts_and_a_failure_is_its_last_event() {
    let (client, server) = queue(
        "if (input === 'fail') { const e = new Error('no luck'); e.name = 'PermanentJobError'; throw e; }
         return new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));",
    );
    resolve(server.start()).await;
    let id = submit(&client, "wait".into()).await;
    let ctl = AbortController::new().unwrap();
    let opts = obj(&[("signal", ctl.signal().into())]);
    let r = response(job_stream_response(
        t(&client),
        id.clone().into(),
        Some(opts),
    ))
    .await;
    let body = text(&r);
    ctl.abort();
    let sse = body.await;
    assert_eq!(event_names(&sse), vec!["state"]);
    // Frees the only worker.
    resolve(client.abort(id.into())).await;
    let id = submit(&client, "fail".into()).await;
    let r = response(job_stream_response(t(&client), id.into(), None)).await;
    let sse = text(&r).await;
    assert_eq!(event_names(&sse).last(), Some(&"failed"));
    assert!(sse.contains("\"error\":\"no luck\",\"errorName\":\"PermanentJobError\""));
    let bad = obj(&[("signal", 5.into())]);
    let err = JsFuture::from(job_stream_response(t(&client), "x".into(), Some(bad)))
        .await
        .unwrap_err();
    assert_eq!(get(&err, "name"), "InvalidOptionsError");
    resolve(server.stop(Some(obj(&[("graceful", false.into())])))).await;
}

#[wasm_bindgen_test]
async fn the_request_handler_routes_under_its_base_path() {
    let (client, _server) = queue("return input");
    let handle =
        create_queue_request_handler(t(&client), Some(obj(&[("basePath", "/jq/".into())])))
            .unwrap();
    let call = |req: Request| handle.call1(&JsValue::UNDEFINED, &req).unwrap();
    // Not served: `undefined`, decided at once.
    for path in ["/queue/status", "/jq", "/jq/other", "/index.html"] {
        assert!(call(request("GET", path, None)).is_undefined(), "{path}");
    }
    let created = call(request(
        "POST",
        "/jq/q/jobs",
        Some(r#"{ "input": { "n": 1 }, "options": { "priority": 5 } }"#),
    ));
    let r = response(created.unchecked_into()).await;
    assert_eq!(r.status(), 201);
    let id = get(&json(&r).await, "id").as_string().unwrap();
    assert_eq!(header(&r, "location"), format!("/jq/jobs/{id}"));
    let r = response(call(request("GET", &format!("/jq/jobs/{id}"), None)).unchecked_into()).await;
    assert_eq!(r.status(), 200);
    let job = json(&r).await;
    assert_eq!(get(&job, "input.n"), 1.0);
    assert_eq!(get(&job, "priority"), 5.0);
    let r = response(call(request("GET", "/jq/jobs/none", None)).unchecked_into()).await;
    assert_eq!(r.status(), 404);
    assert_eq!(get(&json(&r).await, "error"), "JobNotFoundError");
    for (method, path, body, status) in [
        (
            "POST",
            "/jq/q/jobs",
            Some(r#"{ "input": 1, "options": { "priority": "urgent" } }"#),
            400,
        ),
        ("POST", "/jq/q/jobs", Some("not json"), 400),
        (
            "POST",
            "/jq/q/jobs",
            Some(r#"{ "input": 1, "extra": true }"#),
            400,
        ),
        ("POST", "/jq/other/jobs", Some(r#"{ "input": 1 }"#), 404),
        ("POST", "/jq/status", None, 405),
        ("GET", "/jq/q/jobs", None, 405),
    ] {
        let r = response(call(request(method, path, body)).unchecked_into()).await;
        assert_eq!(r.status(), status, "{method} {path} {body:?}");
        assert!(get(&json(&r).await, "error").is_string());
    }
    let r = response(call(request("GET", "/jq/status", None)).unchecked_into()).await;
    assert_eq!(get(&json(&r).await, "queues.0.stats.waiting"), 1.0);
    let r = response(call(request("GET", "/jq/metrics", None)).unchecked_into()).await;
    assert!(
        text(&r)
            .await
            .contains("job_queue_jobs{queue=\"q\",status=\"waiting\"} 1\n")
    );
    let r = response(call(request("GET", "/jq/dashboard", None)).unchecked_into()).await;
    assert!(text(&r).await.contains("const BASE = \"/jq\";"));
    let bad = create_queue_request_handler(t(&client), Some(obj(&[("basePath", "jq".into())])));
    assert_eq!(get(&bad.unwrap_err(), "name"), "InvalidOptionsError");
}

#[wasm_bindgen_test]
async fn the_dashboard_is_one_html_page_for_its_base_path() {
    let (client, _server) = queue("return input");
    let r = response(queue_dashboard_response(t(&client), None)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let html = text(&r).await;
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("const BASE = \"/queue\";"));
    assert!(html.contains("<style>") && html.contains("<script>"));
}

#[wasm_bindgen_test]
async fn a_service_target_serves_every_queue_and_names_the_queue_of_a_job() {
    let queues = obj(&[("a", obj(&[])), ("b", obj(&[]))]);
    let service = resolve(create_queue_service(obj(&[
        ("storage", "memory".into()),
        ("queues", queues),
        ("autoStart", false.into()),
    ])))
    .await;
    let handle = create_queue_request_handler(service.clone(), None).unwrap();
    let call = |method: &str, path: &str, body: Option<&str>| {
        let answer = handle
            .call1(&JsValue::UNDEFINED, &request(method, path, body))
            .unwrap();
        response(answer.unchecked_into())
    };
    let mut ids = Vec::new();
    for (queue, job_type, input) in [("a", "email", 1), ("a", "sms", 2), ("b", "email", 3)] {
        let body = format!(r#"{{ "jobType": "{job_type}", "input": {input} }}"#);
        let r = call("POST", &format!("/queue/{queue}/jobs"), Some(&body)).await;
        assert_eq!(r.status(), 201);
        let id = get(&json(&r).await, "id").as_string().unwrap();
        assert_eq!(
            header(&r, "location"),
            format!("/queue/jobs/{id}?queue={queue}")
        );
        ids.push(id);
    }
    let body = json(&call("GET", "/queue/status", None).await).await;
    assert_eq!(get(&body, "queues.length"), 2.0);
    assert_eq!(get(&body, "queues.0.name"), "a");
    assert_eq!(get(&body, "queues.0.stats.waiting"), 2.0);
    assert_eq!(get(&body, "queues.0.stats.paused"), false);
    assert_eq!(get(&body, "queues.1.name"), "b");
    assert_eq!(get(&body, "queues.1.jobs.length"), 1.0);
    assert_eq!(get(&body, "queues.1.jobs.0.input"), 3.0);
    let body = json(&call("GET", "/queue/status?jobType=sms", None).await).await;
    assert_eq!(get(&body, "queues.0.jobs.length"), 1.0);
    assert_eq!(get(&body, "queues.0.jobs.0.jobType"), "sms");
    assert_eq!(get(&body, "queues.1.jobs.length"), 0.0);
    let body = json(&call("GET", "/queue/status?queue=b&jobType=email", None).await).await;
    assert_eq!(get(&body, "queues.length"), 1.0);
    assert_eq!(get(&body, "queues.0.jobs.0.id"), ids[2].as_str());
    let metrics = text(&call("GET", "/queue/metrics", None).await).await;
    assert!(metrics.contains("job_queue_jobs{queue=\"a\",status=\"waiting\"} 2\n"));
    assert!(metrics.contains("job_queue_jobs{queue=\"b\",status=\"waiting\"} 1\n"));
    let job = format!("/queue/jobs/{}", ids[2]);
    let r = call("GET", &format!("{job}?queue=b"), None).await;
    assert_eq!(get(&json(&r).await, "input"), 3.0);
    let r = call("GET", &format!("{job}?queue=a"), None).await;
    assert_eq!(r.status(), 404);
    for query in ["", "?queue=c"] {
        let r = call("GET", &format!("{job}{query}"), None).await;
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(get(&json(&r).await, "parameter"), "queue");
    }
    let opts = obj(&[("queue", "b".into())]);
    let r = response(job_stream_response(
        service.clone(),
        ids[2].clone().into(),
        Some(opts),
    ))
    .await;
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/event-stream"));
    resolve(r.body().unwrap().cancel()).await;
    let r = response(job_stream_response(
        service.clone(),
        ids[2].clone().into(),
        None,
    ))
    .await;
    assert_eq!(get(&json(&r).await, "parameter"), "queue");
    let stop_all: Function = get(&service, "stopAll").unchecked_into();
    resolve(stop_all.call0(&service).unwrap().unchecked_into()).await;
}
