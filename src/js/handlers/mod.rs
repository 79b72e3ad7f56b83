//! `Request -> Response` handlers over a `JobQueueClient`, with no framework: a job's live
//! stream (SSE), the queue's status (JSON), its metrics (Prometheus text) and a dashboard
//! (HTML), and `createQueueRequestHandler` routing them under a base path. The decisions
//! (routes, query, formats) are in [`crate::core::http`]; this converts and delegates.

mod dashboard;
mod response;
mod stream;

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{AbortSignal, Request, Response, Url};

use super::client::{ClientShared, JobQueueClient};
use super::convert::id_arg;
use super::error::invalid;
use super::snapshot::snapshot;
use crate::core::JobStatus;
use crate::core::http::prometheus::{self, QueueFigures};
use crate::core::http::route::{normalize_base, route};
use crate::core::http::{BadParam, Route, Routed, StatusQuery};
use crate::runtime::processed_figures;
use crate::storage::ListQuery;
use crate::web::props::{get, set};

/// The default base path of `createQueueRequestHandler` and the dashboard.
const DEFAULT_BASE: &str = "/queue";

/// What the handlers serve: one client's queue.
struct Target {
    client: JobQueueClient,
}

impl Target {
    fn new(client: &JobQueueClient) -> Rc<Self> {
        Rc::new(Target {
            client: client.share(),
        })
    }

    fn shared(&self) -> &Rc<ClientShared> {
        self.client.shared()
    }

    fn queue(&self) -> String {
        self.client.queue_name()
    }

    /// How many stored jobs are in each state, in [`JobStatus::ALL`] order.
    async fn counts(&self) -> Result<[u64; 6], JsValue> {
        let mut counts = [0u64; 6];
        for (n, status) in counts.iter_mut().zip(JobStatus::ALL) {
            *n = self.shared().client.count(status).await.map_err(err)? as u64;
        }
        Ok(counts)
    }

    /// The job stream of `id`: 404 `JobNotFoundError` when there is no such job.
    async fn stream(&self, id: &str, signal: Option<AbortSignal>) -> Result<Response, JsValue> {
        match self.shared().client.get(id).await.map_err(err)? {
            None => not_found(id),
            Some(rec) => stream::job_stream(self.shared().clone(), rec, signal),
        }
    }

    /// `{ queues: [{ name, stats, jobs }] }` for the query of `url`.
    async fn status(&self, url: &Url) -> Result<Response, JsValue> {
        let pairs = query_pairs(url);
        let query = StatusQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let query = match query {
            Ok(q) => q,
            Err(bad) => return response::bad_param(&bad),
        };
        let name = self.queue();
        if let Some(asked) = query.queue.as_ref().filter(|q| **q != name) {
            let message = format!("no queue named {asked:?} here (this one is {name:?})");
            return response::bad_param(&BadParam {
                parameter: "queue".into(),
                message,
            });
        }
        let counts = self.counts().await?;
        let stats = Object::new();
        for (status, n) in JobStatus::ALL.iter().zip(counts) {
            Reflect::set(&stats, &status.as_str().into(), &(n as f64).into())?;
        }
        set(&stats, "total", &(counts.iter().sum::<u64>() as f64).into());
        let mut lists = Vec::new();
        // Jobs carry no `jobType` in this build: a `jobType` filter matches none.
        if query.job_type.is_none() {
            for status in query.listed() {
                let list = ListQuery::Status(status, query.reach());
                lists.push(self.shared().client.list(list).await.map_err(err)?);
            }
        }
        let jobs: js_sys::Array = query
            .page(lists, |r| r.created_at)
            .iter()
            .map(snapshot)
            .collect();
        let queue = Object::new();
        set(&queue, "name", &name.into());
        set(&queue, "stats", &stats);
        set(&queue, "jobs", &jobs);
        let body = Object::new();
        set(&body, "queues", &js_sys::Array::of1(&queue));
        response::json(200, &body)
    }

    /// The Prometheus exposition of the queue.
    async fn metrics(&self) -> Result<Response, JsValue> {
        let queue = self.queue();
        let processed = processed_figures(&queue);
        let text = prometheus::render(&[QueueFigures {
            queue: &queue,
            counts: self.counts().await?,
            processed: &processed,
        }]);
        response::text(200, &[("content-type", prometheus::CONTENT_TYPE)], &text)
    }

    /// The snapshot of job `id`, or 404.
    async fn job(&self, id: &str) -> Result<Response, JsValue> {
        match self.shared().client.get(id).await.map_err(err)? {
            None => not_found(id),
            Some(rec) => response::json(200, &snapshot(&rec)),
        }
    }

    /// `POST {base}/:queue/jobs` with `{ jobType, input, options }`: 201 `{ id }`.
    async fn submit(&self, queue: &str, request: Request, base: &str) -> Result<Response, JsValue> {
        let name = self.queue();
        if queue != name {
            let message = format!("no queue named {queue:?} here (this one is {name:?})");
            return response::error(404, "InvalidOptionsError", &message, None);
        }
        let body = match JsFuture::from(request.json()?).await {
            Ok(body) => body,
            Err(_) => {
                let message = "the body must be JSON: { jobType?, input, options? }";
                return response::error(400, "InvalidOptionsError", message, None);
            }
        };
        let fields = ["jobType", "input", "options"];
        let body = match known_keys(&body, "the job body", &fields) {
            Ok(body) => body,
            Err(e) => return response::thrown(&e),
        };
        let options = get(&body, "options");
        let options = match get(&body, "jobType") {
            t if t.is_undefined() => options,
            t => {
                let merged = Object::assign(&Object::new(), &Object::from(options));
                set(&merged, "jobType", &t);
                merged.into()
            }
        };
        let submitted = self.client.submit(get(&body, "input"), Some(options));
        let handle = match JsFuture::from(submitted).await {
            Ok(handle) => handle,
            Err(e) => return response::thrown(&e),
        };
        let id = get(&handle, "id");
        let location = format!(
            "{base}/jobs/{}",
            js_sys::encode_uri_component(&id.as_string().unwrap_or_default())
        );
        let answer = Object::new();
        set(&answer, "id", &id);
        response::json_with(201, &[("location", &location)], &answer)
    }
}

/// `value` as an object with no keys but `allowed` (`undefined`/`null`: an empty one).
fn known_keys(value: &JsValue, what: &str, allowed: &[&str]) -> Result<Object, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Object::new());
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(invalid(format!("{what} must be an object")));
    }
    for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let allowed = allowed.join(", ");
            return Err(invalid(format!(
                "{what}: unknown key {key:?} (allowed: {allowed})"
            )));
        }
    }
    Ok(value.clone().unchecked_into())
}

/// A library error as the JS error it is thrown as.
fn err(e: crate::core::QueueError) -> JsValue {
    super::error::to_js(e)
}

/// 404 `{ error: 'JobNotFoundError' }`.
fn not_found(id: &str) -> Result<Response, JsValue> {
    response::queue_error(&crate::core::QueueError::JobNotFound(id.to_string()))
}

/// The `(name, value)` pairs of a URL's query, in order.
fn query_pairs(url: &Url) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&url.search_params()) {
        for pair in iter.flatten() {
            let pair = js_sys::Array::from(&pair);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((k, v));
            }
        }
    }
    out
}

/// A promise of a response; a JS error thrown on the way becomes an error response.
fn answer(fut: impl std::future::Future<Output = Result<Response, JsValue>> + 'static) -> Promise {
    future_to_promise(async move {
        match fut.await {
            Ok(r) => Ok(r.into()),
            Err(e) => response::thrown(&e).map(JsValue::from),
        }
    })
}

/// The `basePath` option, normalized (default `/queue`).
fn base_path(options: &JsValue, what: &str) -> Result<String, JsValue> {
    let options = known_keys(options, what, &["basePath"])?;
    let base = get(&options, "basePath");
    let base = match base.as_string() {
        Some(b) => b,
        None if base.is_undefined() => DEFAULT_BASE.to_string(),
        None => return Err(invalid(format!("{what}: basePath must be a string"))),
    };
    normalize_base(&base).ok_or_else(|| {
        invalid(format!(
            "{what}: basePath must be a path starting with '/', without '?' or '#' (got {base:?})"
        ))
    })
}

/// `jobStreamResponse(client, jobId, { signal }?)`: a `text/event-stream` of the job.
#[wasm_bindgen(js_name = jobStreamResponse, unchecked_return_type = "Promise<Response>")]
pub fn job_stream_response(
    target: &JobQueueClient,
    job_id: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "JobStreamOptions")] options: Option<JsValue>,
) -> Promise {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let taken = id_arg(&job_id).and_then(|id| Ok((id, signal_of(&options)?)));
    let (id, signal) = match taken {
        Ok(t) => t,
        Err(e) => return Promise::reject(&e),
    };
    let target = Target::new(target);
    future_to_promise(async move { Ok(target.stream(&id, signal).await?.into()) })
}

/// The `signal` option of a stream: an `AbortSignal` or absent.
fn signal_of(options: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    let options = known_keys(options, "stream options", &["signal"])?;
    let signal = get(&options, "signal");
    if signal.is_undefined() {
        return Ok(None);
    }
    signal
        .dyn_into::<AbortSignal>()
        .map(Some)
        .map_err(|_| invalid("stream options: signal must be an AbortSignal"))
}

/// `queueStatusResponse(client, request)`: the queue's counts and a page of its jobs (JSON),
/// filtered by the request's query (`status`, `jobType`, `queue`, `limit`, `offset`).
#[wasm_bindgen(js_name = queueStatusResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_status_response(
    target: &JobQueueClient,
    #[wasm_bindgen(unchecked_param_type = "Request")] request: JsValue,
) -> Promise {
    let Some(request) = request.dyn_ref::<Request>() else {
        return Promise::reject(&invalid("queueStatusResponse takes a Request"));
    };
    let target = Target::new(target);
    let url = Url::new(&request.url());
    answer(async move { target.status(&url?).await })
}

/// `queueMetricsResponse(client)`: the Prometheus text exposition (format 0.0.4).
#[wasm_bindgen(js_name = queueMetricsResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_metrics_response(target: &JobQueueClient) -> Promise {
    let target = Target::new(target);
    answer(async move { target.metrics().await })
}

/// `queueDashboardResponse(client, { basePath }?)`: the self-contained HTML dashboard, which
/// reads `{basePath}/status` and `{basePath}/jobs/:id/stream`.
#[wasm_bindgen(js_name = queueDashboardResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_dashboard_response(
    _target: &JobQueueClient,
    #[wasm_bindgen(unchecked_optional_param_type = "QueueHandlerOptions")] options: Option<JsValue>,
) -> Promise {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    match base_path(&options, "dashboard options").and_then(|b| dashboard::page(&b)) {
        Ok(r) => Promise::resolve(&JsValue::from(r)),
        Err(e) => Promise::reject(&e),
    }
}

/// `createQueueRequestHandler(client, { basePath = '/queue' }?)`: `(request) =>
/// Promise<Response> | undefined`, `undefined` (at once) for paths it does not serve.
#[wasm_bindgen(
    js_name = createQueueRequestHandler,
    unchecked_return_type = "(request: Request) => Promise<Response> | undefined"
)]
pub fn create_queue_request_handler(
    target: &JobQueueClient,
    #[wasm_bindgen(unchecked_optional_param_type = "QueueHandlerOptions")] options: Option<JsValue>,
) -> Result<Function, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let base = base_path(&options, "request handler options")?;
    let target = Target::new(target);
    let handle = move |request: JsValue| -> JsValue {
        let Ok(request) = request.dyn_into::<Request>() else {
            return JsValue::UNDEFINED;
        };
        let Ok(url) = Url::new(&request.url()) else {
            return JsValue::UNDEFINED;
        };
        match route(&request.method(), &url.pathname(), &base) {
            None => JsValue::UNDEFINED,
            Some(routed) => dispatch(target.clone(), routed, request, url, base.clone()).into(),
        }
    };
    Ok(Closure::<dyn Fn(JsValue) -> JsValue>::new(handle)
        .into_js_value()
        .unchecked_into())
}

/// The promise of the response to a routed request.
fn dispatch(
    target: Rc<Target>,
    routed: Routed,
    request: Request,
    url: Url,
    base: String,
) -> Promise {
    answer(async move {
        let route = match routed {
            Routed::To(route) => route,
            Routed::WrongMethod(allow) => {
                let message = format!(
                    "{} is not allowed here (allowed: {allow})",
                    request.method()
                );
                let o = Object::new();
                set(&o, "error", &"MethodNotAllowed".into());
                set(&o, "message", &message.into());
                return response::json_with(405, &[("allow", allow)], &o);
            }
        };
        match route {
            Route::Status => target.status(&url).await,
            Route::Metrics => target.metrics().await,
            Route::Dashboard => dashboard::page(&base),
            Route::Job(id) => target.job(&id).await,
            Route::JobStream(id) => target.stream(&id, Some(request.signal())).await,
            Route::Submit(queue) => target.submit(&queue, request, &base).await,
        }
    })
}
