//! Cross-context hints through `BroadcastChannel`: the job events of this context are posted
//! as `{ hints: [kind, id, kind, id, ..] }` (no payload), one message for all the events of a
//! task (a step settling and claiming several jobs posts once); every hint received becomes a
//! [`JobEvent::Changed`] hint on the local bus, so listeners re-read storage before they
//! resolve anything. A forged or lost message therefore changes nothing. A message
//! `{ kind, id }` (one hint) is understood too. The one payload: a job this context's server
//! removes at once after it ended (`deleteAfter*Ms: 0`) is told in the same message as
//! `ends: [[id, "complete", output] | [id, "error", name, message] | [id, "cancelled"], ..]`,
//! since a waiter elsewhere, reading on the hint, finds the record gone: the end is taken only
//! then (a forged end resolves only a wait on a job that is really gone).
//!
//! What is told, which hints wake servers, and the presence handshake (`{ presence: "hello" |
//! "here" | "resync" }`, so that a context alone posts nothing) are decided by
//! `runtime::presence`; this module opens the channel, converts messages and carries out its
//! answers. Re-reading is a [`JobEvent::Resync`]: servers look for work and check their
//! running jobs for aborts, waits and progress watches read their job, connected clients
//! their unfinished jobs.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Object};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use super::online::OnlineListener;
use crate::core::JobEvent;
use crate::runtime::SharedBus;
use crate::runtime::presence::{HELLO, Presence, heard, hint_kind};
use crate::web::props::{get, set};

/// A channel bridging one queue's bus across the origin's contexts.
pub struct Broadcast {
    channel: BroadcastChannel,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    /// Hints not posted yet, `[kind, id, ..]`: posted together in a microtask.
    pending: RefCell<Vec<JsValue>>,
    /// The ends of jobs removed at once not posted yet (see the module docs), with `pending`.
    pending_ends: RefCell<Vec<JsValue>>,
    /// This context's side of the presence handshake (hints are posted once another context
    /// was heard).
    presence: Cell<Presence>,
    /// The global scope's `online` listener, where it has the event: a
    /// [`JobEvent::Online`] on the bus, which this context's servers hear and the channel
    /// tells the others (a server in a worker or service worker hears it from a page:
    /// Chromium fires `online` in windows only).
    _online: Option<OnlineListener>,
}

/// The field of a presence message (its values: see `runtime::presence`).
const PRESENCE: &str = "presence";

/// The longest id a received hint may carry, and the most hints one message may carry.
const MAX_ID: usize = 1024;
const MAX_HINTS: u32 = 4096;

impl Drop for Broadcast {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

impl Broadcast {
    /// Bridges `bus` over the channel `name`; `None` where `BroadcastChannel` is missing
    /// (then other contexts notice changes by polling).
    pub fn open(name: &str, bus: &SharedBus<JsValue>) -> Option<Rc<Broadcast>> {
        if get(&js_sys::global(), "BroadcastChannel").is_undefined() {
            return None;
        }
        let channel = BroadcastChannel::new(name).ok()?;
        // Node's channels keep the process alive while open: this one should not.
        if let Ok(unref) = get(&channel, "unref").dyn_into::<js_sys::Function>() {
            let _ = unref.call0(&channel);
        }
        let weak_bus = Rc::downgrade(bus);
        let online_bus = weak_bus.clone();
        let online = OnlineListener::add(move || {
            if let Some(bus) = online_bus.upgrade() {
                bus.emit(&JobEvent::Online);
            }
        });
        let out = Rc::new_cyclic(|weak: &Weak<Broadcast>| {
            let weak = weak.clone();
            let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |m: MessageEvent| {
                if let (Some(b), Some(bus)) = (weak.upgrade(), weak_bus.upgrade()) {
                    b.receive(&m.data(), &bus);
                }
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            Broadcast {
                channel,
                _on_message: on_message,
                pending: RefCell::new(Vec::new()),
                pending_ends: RefCell::new(Vec::new()),
                presence: Cell::new(Presence::default()),
                _online: online,
            }
        });
        out.post_presence(HELLO);
        let weak = Rc::downgrade(&out);
        bus.subscribe(move |e: &JobEvent<JsValue>| {
            let (Some(b), Some(k)) = (weak.upgrade(), hint_kind(e)) else {
                return;
            };
            if !b.presence.get().posts() {
                return;
            }
            let first = {
                let (mut pending, mut ends) = (b.pending.borrow_mut(), b.pending_ends.borrow_mut());
                let was_empty = pending.is_empty() && ends.is_empty();
                match e {
                    JobEvent::Removed {
                        id,
                        ended: Some(end),
                    } => ends.push(end_to_js(id, end).into()),
                    _ => {
                        pending.push(JsValue::from_str(k));
                        pending.push(JsValue::from_str(e.job_id()));
                    }
                }
                was_empty
            };
            if first {
                wasm_bindgen_futures::spawn_local(async move { b.flush() });
            }
        });
        Some(out)
    }

    /// Handles a message from another context.
    fn receive(&self, data: &JsValue, bus: &SharedBus<JsValue>) {
        let presence = get(data, PRESENCE).as_string();
        let mut state = self.presence.get();
        let reaction = state.hear(presence.as_deref());
        self.presence.set(state);
        if let Some(answer) = reaction.answer {
            self.post_presence(answer);
        }
        if reaction.resync {
            bus.emit(&JobEvent::Resync);
        }
        if !reaction.read_hints {
            return;
        }
        let hint = |kind: JsValue, id: JsValue| {
            let (Some(kind), Some(id)) = (kind.as_string(), id.as_string()) else {
                return;
            };
            if id.len() <= MAX_ID {
                bus.emit(&heard(&kind, id));
            }
        };
        // The ends first: a waiter woken by a hint of the same message re-reads later, and
        // must have its job's end by then.
        if let Some(ends) = get(data, "ends").dyn_ref::<Array>() {
            for end in ends.iter().take(MAX_HINTS as usize) {
                if let Some((id, ended)) = end_from_js(&end).filter(|(id, _)| id.len() <= MAX_ID) {
                    bus.emit(&JobEvent::Changed {
                        id,
                        wake: false,
                        ended: Some(Box::new(ended)),
                    });
                }
            }
        }
        let hints = get(data, "hints");
        if let Some(hints) = hints.dyn_ref::<Array>() {
            let n = hints.length().min(MAX_HINTS * 2);
            for i in (0..n.saturating_sub(1)).step_by(2) {
                hint(hints.get(i), hints.get(i + 1));
            }
        } else {
            hint(get(data, "kind"), get(data, "id"));
        }
    }

    /// Posts the presence message `what`.
    fn post_presence(&self, what: &str) {
        let msg = Object::new();
        set(&msg, PRESENCE, &JsValue::from_str(what));
        // A closed channel throws; nothing else can be done about it here.
        let _ = self.channel.post_message(&msg);
    }

    /// Posts the pending hints (and ends) as one message.
    fn flush(&self) {
        let hints: Array = self.pending.take().into_iter().collect();
        let ends: Array = self.pending_ends.take().into_iter().collect();
        if hints.length() == 0 && ends.length() == 0 {
            return;
        }
        let msg = Object::new();
        set(&msg, "hints", &hints);
        if ends.length() > 0 {
            set(&msg, "ends", &ends);
        }
        // A closed channel throws; nothing else can be done about it here.
        let _ = self.channel.post_message(&msg);
    }
}

/// The wire form of job `id`'s end `end` (see the module docs).
fn end_to_js(id: &str, end: &JobEvent<JsValue>) -> Array {
    let out = Array::of1(&JsValue::from_str(id));
    match end {
        JobEvent::Complete { output, .. } => {
            out.push(&JsValue::from_str("complete"));
            out.push(output);
        }
        JobEvent::Error {
            error_name, error, ..
        } => {
            out.push(&JsValue::from_str("error"));
            out.push(&JsValue::from_str(error_name));
            out.push(&JsValue::from_str(error));
        }
        _ => {
            out.push(&JsValue::from_str("cancelled"));
        }
    }
    out
}

/// A job's id and end from their wire form, or `None` when it is not one.
fn end_from_js(v: &JsValue) -> Option<(String, JobEvent<JsValue>)> {
    let v = v.dyn_ref::<Array>()?;
    let id = v.get(0).as_string()?;
    let ended = match v.get(1).as_string()?.as_str() {
        "complete" => JobEvent::Complete {
            id: id.clone(),
            output: v.get(2),
        },
        "error" => JobEvent::Error {
            id: id.clone(),
            error_name: v.get(2).as_string()?,
            error: v.get(3).as_string()?,
        },
        "cancelled" => JobEvent::Cancelled { id: id.clone() },
        _ => return None,
    };
    Some((id, ended))
}
