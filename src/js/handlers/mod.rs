//! `Request -> Response` handlers over a `JobQueueClient` or a `QueueService` (every queue),
//! with no framework: a job's live stream (SSE), the queues' status (JSON), their metrics
//! (Prometheus text) and a dashboard
//! (HTML), and `createQueueRequestHandler` routing them under a base path. The decisions
//! (routes, query, formats) are in [`crate::core::http`]; this converts and delegates.

mod dashboard;
mod response;
mod stream;

use std::rc::Rc;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::{AbortSignal, Request, Response, Url};

use wasm_bindgen::convert::TryFromJsValue;

use super::client::JobQueueClient;
use super::convert::id_arg;
use super::error::invalid;
use super::service::QueueService;
use super::snapshot::snapshot;
use crate::core::JobStatus;
use crate::core::http::prometheus::{self, QueueFigures};
use crate::core::http::route::{normalize_base, route};
use crate::core::http::{BadParam, Route, Routed, StatusQuery};
use crate::core::listing::JobFilter;
use crate::runtime::processed_figures;
use crate::storage::ListQuery;
use crate::web::props::{get, set};

/// The default base path of `createQueueRequestHandler` and the dashboard.
const DEFAULT_BASE: &str = "/queue";

/// What the handlers serve: one client's queue, or every queue of a service.
struct Target {
    /// The queues' clients (one for a client target; the service's, in its order).
    clients: Vec<JobQueueClient>,
    /// Whether the target is a service: job routes then name their queue (`queue`).
    service: bool,
}

impl Target {
    /// The target of a handler: a `JobQueueClient` or a `QueueService` of this module.
    fn of(target: &JsValue) -> Result<Rc<Self>, JsValue> {
        let wrong = || invalid("the handlers' target must be a JobQueueClient or a QueueService");
        let share = get(target, "__wjqShare")
            .dyn_into::<Function>()
            .map_err(|_| wrong())?;
        let handle = share.call0(target)?;
        let (clients, service) = match JobQueueClient::try_from_js_value_ref(&handle) {
            Some(client) => (vec![client], false),
            None => match QueueService::try_from_js_value_ref(&handle) {
                Some(service) => (service.clients(), true),
                None => return Err(wrong()),
            },
        };
        Ok(Rc::new(Target { clients, service }))
    }

    /// The names of the queues served.
    fn names(&self) -> String {
        let names: Vec<String> = self.clients.iter().map(|c| c.queue_name()).collect();
        names.join(", ")
    }

    /// The client of queue `name`.
    fn named(&self, name: &str) -> Result<&JobQueueClient, BadParam> {
        self.clients
            .iter()
            .find(|c| c.queue_name() == name)
            .ok_or_else(|| BadParam {
                parameter: "queue".into(),
                message: format!("no queue named {name:?} here (queues: {})", self.names()),
            })
    }

    /// The queue of a job route: the one named by `queue`, which a service target needs.
    fn job_queue(&self, asked: Option<&str>) -> Result<&JobQueueClient, BadParam> {
        let missing = || BadParam {
            parameter: "queue".into(),
            message: format!(
                "the queue parameter must name the job's queue (queues: {})",
                self.names()
            ),
        };
        match asked {
            Some(name) => self.named(name),
            None if self.service => Err(missing()),
            None => self.clients.first().ok_or_else(missing),
        }
    }

    /// The job stream of `id` in the queue named `queue`: 404 `JobNotFoundError` when
    /// there is no such job.
    async fn stream(
        &self,
        queue: Option<&str>,
        id: &str,
        signal: Option<AbortSignal>,
    ) -> Result<Response, JsValue> {
        let client = match self.job_queue(queue) {
            Ok(c) => c,
            Err(bad) => return response::bad_param(&bad),
        };
        let shared = client.shared();
        match shared.client.get(id).await.map_err(err)? {
            None => not_found(id),
            Some(rec) => stream::job_stream(shared.clone(), rec, signal),
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
        let clients: Vec<&JobQueueClient> = match query.queue.as_deref() {
            None => self.clients.iter().collect(),
            Some(name) => match self.named(name) {
                Ok(c) => vec![c],
                Err(bad) => return response::bad_param(&bad),
            },
        };
        let queues = js_sys::Array::new();
        for client in clients {
            queues.push(&queue_status(client, &query).await?);
        }
        let body = Object::new();
        set(&body, "queues", &queues);
        response::json(200, &body)
    }

    /// The Prometheus exposition of every queue served.
    async fn metrics(&self) -> Result<Response, JsValue> {
        let mut figures = Vec::with_capacity(self.clients.len());
        for client in &self.clients {
            let queue = client.queue_name();
            let processed = processed_figures(&queue);
            figures.push((queue, counts(client).await?, processed));
        }
        let text = prometheus::render(
            &figures
                .iter()
                .map(|(queue, counts, processed)| QueueFigures {
                    queue,
                    counts: *counts,
                    processed,
                })
                .collect::<Vec<_>>(),
        );
        response::text(200, &[("content-type", prometheus::CONTENT_TYPE)], &text)
    }

    /// The snapshot of job `id` of the queue named `queue`, or 404.
    async fn job(&self, queue: Option<&str>, id: &str) -> Result<Response, JsValue> {
        let client = match self.job_queue(queue) {
            Ok(c) => c,
            Err(bad) => return response::bad_param(&bad),
        };
        match client.shared().client.get(id).await.map_err(err)? {
            None => not_found(id),
            Some(rec) => response::json(200, &snapshot(&rec)),
        }
    }

    /// `POST {base}/:queue/jobs` with `{ jobType, input, options }`: 201 `{ id }`.
    async fn submit(&self, queue: &str, request: Request, base: &str) -> Result<Response, JsValue> {
        let Ok(client) = self.named(queue) else {
            let message = format!("no queue named {queue:?} here (queues: {})", self.names());
            return response::error(404, "InvalidOptionsError", &message, None);
        };
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
        let submitted = client.submit(get(&body, "input"), Some(options));
        let handle = match JsFuture::from(submitted).await {
            Ok(handle) => handle,
            Err(e) => return response::thrown(&e),
        };
        let id = get(&handle, "id");
        let id_text = id.as_string().unwrap_or_default();
        let mut location = format!("{base}/jobs/{}", js_sys::encode_uri_component(&id_text));
        if self.service {
            location.push_str(&format!("?queue={}", js_sys::encode_uri_component(queue)));
        }
        let answer = Object::new();
        set(&answer, "id", &id);
        response::json_with(201, &[("location", &location)], &answer)
    }
}

/// How many stored jobs of `client`'s queue are in each state, in [`JobStatus::ALL`] order.
async fn counts(client: &JobQueueClient) -> Result<[u64; 6], JsValue> {
    let mut counts = [0u64; 6];
    for (n, status) in counts.iter_mut().zip(JobStatus::ALL) {
        *n = client.shared().client.count(status).await.map_err(err)? as u64;
    }
    Ok(counts)
}

/// `{ name, stats, jobs }` of `client`'s queue: its `getQueueStats` and the page of jobs
/// `query` selects (through the `listJobs` filter when it names a `jobType`).
async fn queue_status(client: &JobQueueClient, query: &StatusQuery) -> Result<JsValue, JsValue> {
    let stats = JsFuture::from(client.get_queue_stats()).await?;
    let storage = &client.shared().client;
    let page = match &query.job_type {
        Some(job_type) => {
            let filter = JobFilter {
                statuses: query.listed(),
                job_type: Some(job_type.clone()),
                limit: query.limit,
                offset: query.offset,
                ..JobFilter::default()
            };
            storage.list(ListQuery::Filter(filter)).await.map_err(err)?
        }
        None => {
            let mut lists = Vec::new();
            for status in query.listed() {
                let list = ListQuery::Status(status, query.reach());
                lists.push(storage.list(list).await.map_err(err)?);
            }
            query.page(lists, |r| r.created_at)
        }
    };
    let jobs: js_sys::Array = page.iter().map(snapshot).collect();
    let queue = Object::new();
    set(&queue, "name", &client.queue_name().into());
    set(&queue, "stats", &stats);
    set(&queue, "jobs", &jobs);
    Ok(queue.into())
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

/// The `queue` parameter of a URL's query.
fn queue_of(url: &Url) -> Option<String> {
    url.search_params().get("queue")
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

/// `jobStreamResponse(target, jobId, { signal, queue }?)`: a `text/event-stream` of the job
/// (`queue` names its queue, needed for a service target).
#[wasm_bindgen(js_name = jobStreamResponse, unchecked_return_type = "Promise<Response>")]
pub fn job_stream_response(
    #[wasm_bindgen(unchecked_param_type = "JobQueueClient | QueueService")] target: JsValue,
    job_id: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "JobStreamOptions")] options: Option<JsValue>,
) -> Promise {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let taken = id_arg(&job_id)
        .and_then(|id| Ok((id, stream_options(&options)?)))
        .and_then(|taken| Ok((taken, Target::of(&target)?)));
    let ((id, (signal, queue)), target) = match taken {
        Ok(t) => t,
        Err(e) => return Promise::reject(&e),
    };
    future_to_promise(async move { Ok(target.stream(queue.as_deref(), &id, signal).await?.into()) })
}

/// The `signal` (an `AbortSignal`) and `queue` (a string) options of a stream, each optional.
fn stream_options(options: &JsValue) -> Result<(Option<AbortSignal>, Option<String>), JsValue> {
    let options = known_keys(options, "stream options", &["signal", "queue"])?;
    let queue = get(&options, "queue");
    let queue = match queue.as_string() {
        Some(q) => Some(q),
        None if queue.is_undefined() => None,
        None => return Err(invalid("stream options: queue must be a string")),
    };
    let signal = get(&options, "signal");
    if signal.is_undefined() {
        return Ok((None, queue));
    }
    signal
        .dyn_into::<AbortSignal>()
        .map(|s| (Some(s), queue))
        .map_err(|_| invalid("stream options: signal must be an AbortSignal"))
}

/// `queueStatusResponse(target, request)`: each queue's stats and a page of its jobs (JSON),
/// filtered by the request's query (`status`, `jobType`, `queue`, `limit`, `offset`).
#[wasm_bindgen(js_name = queueStatusResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_status_response(
    #[wasm_bindgen(unchecked_param_type = "JobQueueClient | QueueService")] target: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Request")] request: JsValue,
) -> Promise {
    let Some(request) = request.dyn_ref::<Request>() else {
        return Promise::reject(&invalid("queueStatusResponse takes a Request"));
    };
    let target = match Target::of(&target) {
        Ok(t) => t,
        Err(e) => return Promise::reject(&e),
    };
    let url = Url::new(&request.url());
    answer(async move { target.status(&url?).await })
}

/// `queueMetricsResponse(target)`: the Prometheus text exposition (format 0.0.4) of every
/// queue of the target.
#[wasm_bindgen(js_name = queueMetricsResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_metrics_response(
    #[wasm_bindgen(unchecked_param_type = "JobQueueClient | QueueService")] target: JsValue,
) -> Promise {
    match Target::of(&target) {
        Ok(target) => answer(async move { target.metrics().await }),
        Err(e) => Promise::reject(&e),
    }
}

/// `queueDashboardResponse(target, { basePath }?)`: the self-contained HTML dashboard, which
/// reads `{basePath}/status` and `{basePath}/jobs/:id/stream?queue=…`.
#[wasm_bindgen(js_name = queueDashboardResponse, unchecked_return_type = "Promise<Response>")]
pub fn queue_dashboard_response(
    #[wasm_bindgen(unchecked_param_type = "JobQueueClient | QueueService")] target: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "QueueHandlerOptions")] options: Option<JsValue>,
) -> Promise {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let page = Target::of(&target)
        .and_then(|_| base_path(&options, "dashboard options"))
        .and_then(|b| dashboard::page(&b));
    match page {
        Ok(r) => Promise::resolve(&JsValue::from(r)),
        Err(e) => Promise::reject(&e),
    }
}

/// `createQueueRequestHandler(target, { basePath = '/queue' }?)`: `(request) =>
/// Promise<Response> | undefined`, `undefined` (at once) for paths it does not serve.
#[wasm_bindgen(
    js_name = createQueueRequestHandler,
    unchecked_return_type = "(request: Request) => Promise<Response> | undefined"
)]
pub fn create_queue_request_handler(
    #[wasm_bindgen(unchecked_param_type = "JobQueueClient | QueueService")] target: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "QueueHandlerOptions")] options: Option<JsValue>,
) -> Result<Function, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    let base = base_path(&options, "request handler options")?;
    let target = Target::of(&target)?;
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
            Route::Job(id) => target.job(queue_of(&url).as_deref(), &id).await,
            Route::JobStream(id) => {
                let queue = queue_of(&url);
                target
                    .stream(queue.as_deref(), &id, Some(request.signal()))
                    .await
            }
            Route::Submit(queue) => target.submit(&queue, request, &base).await,
        }
    })
}
