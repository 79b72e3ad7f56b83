//! Cross-context hints through `BroadcastChannel`: every job event of this context is posted
//! as `{ kind, id }` (never a payload); every message received becomes a
//! [`JobEvent::Changed`] hint on the local bus, so listeners re-read storage before they
//! resolve anything. A forged or lost message therefore changes nothing.

use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use super::error::{get, set};
use crate::core::JobEvent;
use crate::runtime::SharedBus;

/// A channel bridging one queue's bus across the origin's contexts.
pub struct Broadcast {
    channel: BroadcastChannel,
    _on_message: Closure<dyn Fn(MessageEvent)>,
}

impl Drop for Broadcast {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// The wire name of an event, and whether it should wake idle servers elsewhere.
fn kind(e: &JobEvent<JsValue>) -> Option<(&'static str, bool)> {
    Some(match e {
        JobEvent::Submitted { .. } => ("submitted", true),
        JobEvent::Start { .. } => ("start", false),
        JobEvent::Progress { .. } => ("progress", false),
        JobEvent::Complete { .. } => ("complete", true),
        JobEvent::Retry { .. } => ("retry", true),
        JobEvent::Error { .. } => ("error", true),
        JobEvent::Cancelled { .. } => ("cancelled", true),
        JobEvent::Stalled { .. } => ("stalled", true),
        JobEvent::Removed { .. } => ("removed", false),
        JobEvent::Changed { .. } => return None,
    })
}

/// Whether a received kind should wake idle servers.
fn wakes(kind: &str) -> bool {
    matches!(
        kind,
        "submitted" | "complete" | "retry" | "error" | "cancelled" | "stalled"
    )
}

impl Broadcast {
    /// Bridges `bus` over the channel `name`; `None` where `BroadcastChannel` is missing
    /// (then other contexts notice changes by polling).
    pub fn open(name: &str, bus: &SharedBus<JsValue>) -> Option<Rc<Broadcast>> {
        if get(&js_sys::global(), "BroadcastChannel").is_undefined() {
            return None;
        }
        let channel = BroadcastChannel::new(name).ok()?;
        let weak_bus = Rc::downgrade(bus);
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |m: MessageEvent| {
            let data = m.data();
            let (Some(kind), Some(id)) =
                (get(&data, "kind").as_string(), get(&data, "id").as_string())
            else {
                return;
            };
            if id.len() > 1024 {
                return;
            }
            if let Some(bus) = weak_bus.upgrade() {
                bus.emit(&JobEvent::Changed {
                    wake: wakes(&kind),
                    id,
                });
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let out = Rc::new(Broadcast {
            channel,
            _on_message: on_message,
        });
        let weak = Rc::downgrade(&out);
        bus.subscribe(move |e: &JobEvent<JsValue>| {
            let (Some(b), Some((k, _))) = (weak.upgrade(), kind(e)) else {
                return;
            };
            let msg = Object::new();
            set(&msg, "kind", &JsValue::from_str(k));
            set(&msg, "id", &JsValue::from_str(e.job_id()));
            // A closed channel throws; nothing else can be done about it here.
            let _ = b.channel.post_message(&msg);
        });
        Some(out)
    }
}
