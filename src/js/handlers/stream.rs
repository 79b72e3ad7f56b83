//! The job stream: a `ReadableStream` of server-sent events fed by
//! [`crate::runtime::follow_job`]; closed after the final event, or when the request's
//! `signal` aborts or the reader cancels, with its listeners and timers gone.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, ReadableStream, ReadableStreamDefaultController, Response};

use super::response::{json_text, streamed};
use crate::core::JobRecord;
use crate::core::http::sse::{KEEP_ALIVE, KEEP_ALIVE_MS, frame};
use crate::js::client::ClientShared;
use crate::js::convert::str_or_null;
use crate::js::snapshot::snapshot;
use crate::runtime::{Notify, StreamEvent, follow_job};
use crate::web::props::set;

/// The controller of the stream, once its `start` ran.
type Controller = Rc<RefCell<Option<ReadableStreamDefaultController>>>;

/// The `text/event-stream` response following job `rec` (already read: it exists).
pub fn job_stream(
    shared: Rc<ClientShared>,
    rec: JobRecord<JsValue>,
    signal: Option<AbortSignal>,
) -> Result<Response, JsValue> {
    let stop = Notify::new();
    // Taken first: a cancel or abort from here on ends the follow.
    let stopped = stop.notified();
    let controller: Controller = Rc::new(RefCell::new(None));
    let source = Object::new();
    let keep = controller.clone();
    let start = Closure::once_into_js(move |c: ReadableStreamDefaultController| {
        *keep.borrow_mut() = Some(c);
    });
    set(&source, "start", &start);
    let on_stop = stop.clone();
    let cancel = Closure::<dyn Fn()>::new(move || on_stop.notify()).into_js_value();
    set(&source, "cancel", &cancel);
    let stream = ReadableStream::new_with_underlying_source(&source)?;
    let abort = Closure::<dyn Fn()>::new(move || stop.notify());
    if let Some(signal) = &signal {
        signal.add_event_listener_with_callback("abort", abort.as_ref().unchecked_ref())?;
        if signal.aborted() {
            cancel
                .unchecked_ref::<js_sys::Function>()
                .call0(&JsValue::UNDEFINED)?;
        }
    }
    wasm_bindgen_futures::spawn_local(async move {
        let sink = {
            let controller = controller.clone();
            move |e: StreamEvent<JsValue>| send(&controller, &text_of(e))
        };
        follow_job(&shared.client, rec, KEEP_ALIVE_MS, stopped, sink).await;
        if let Some(signal) = &signal {
            let _ =
                signal.remove_event_listener_with_callback("abort", abort.as_ref().unchecked_ref());
        }
        drop(abort);
        if let Some(c) = controller.borrow_mut().take() {
            // Fails only when the reader cancelled: the stream is closed already.
            let _ = c.close();
        }
    });
    let headers = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("x-accel-buffering", "no"),
    ];
    streamed(200, &headers, &stream)
}

/// Enqueues `text` as UTF-8 bytes (nothing once the stream is closed).
fn send(controller: &Controller, text: &str) {
    if let Some(c) = controller.borrow().as_ref() {
        let _ = c.enqueue_with_chunk(&Uint8Array::from(text.as_bytes()));
    }
}

/// The SSE text of one stream event.
fn text_of(e: StreamEvent<JsValue>) -> String {
    let o = Object::new();
    let name = match e {
        StreamEvent::KeepAlive => return KEEP_ALIVE.to_string(),
        StreamEvent::State(rec) => return frame("state", &json_text(&snapshot(&rec))),
        StreamEvent::Progress {
            progress,
            message,
            details,
        } => {
            set(&o, "progress", &JsValue::from_f64(progress));
            set(&o, "message", &str_or_null(&message));
            set(&o, "details", details.as_ref().unwrap_or(&JsValue::NULL));
            "progress"
        }
        StreamEvent::Completed(output) => {
            set(&o, "output", &output);
            "completed"
        }
        StreamEvent::Failed { error_name, error } => {
            set(&o, "error", &JsValue::from_str(&error));
            set(&o, "errorName", &JsValue::from_str(&error_name));
            "failed"
        }
        StreamEvent::Cancelled => "cancelled",
        StreamEvent::Lost(err) => {
            set(&o, "error", &JsValue::from_str(err.name()));
            set(&o, "message", &JsValue::from_str(&err.message()));
            "lost"
        }
    };
    frame(name, &json_text(&o))
}
