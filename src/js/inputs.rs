//! A submit's inputs as the storage takes them: their copies (what IndexedDB stores, taken
//! at the call) and fingerprints, a batch's copied a chunk at a time so the browser stores its
//! first jobs while the next inputs are copied.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::JsValue;

use super::convert::storable_all;
use crate::core::QueueError;
use crate::core::fingerprint::fingerprint_text;
use crate::runtime::Taken;

/// How many inputs a batch's first chunk copies; each next chunk is twice as large, up to
/// [`MAX_CHUNK`]: the first put is issued early, and the calls into JS stay few.
const FIRST_CHUNK: u32 = 16;
/// The largest chunk.
const MAX_CHUNK: u32 = 512;

/// An input's canonical JSON text (compact, object keys sorted; `None` when it has no JSON
/// form, e.g. a BigInt out of range or a cycle). It comes from executor.js's walk when that
/// can write it, else from `json_of` and serde_json (the same text, see `wjqCanonical`).
pub fn canonical_text(input: &JsValue) -> Option<String> {
    if input.is_undefined() {
        return None;
    }
    match super::executor::canonical_json(input).as_string() {
        Some(text) => Some(text),
        None => rust_text(input),
    }
}

/// The fingerprint of an input's canonical JSON text (see [`canonical_text`]).
pub fn input_fingerprint(input: &JsValue) -> Option<String> {
    canonical_text(input).map(|text| fingerprint_text(&text))
}

/// The canonical JSON text of `input` as the Rust path writes it.
fn rust_text(input: &JsValue) -> Option<String> {
    Some(crate::web::json::json_of(input).ok()?.to_string())
}

/// The fingerprint of `copy` from its part of [`storable_all`]'s texts, as
/// [`input_fingerprint`] gives it.
fn text_fingerprint(copy: &JsValue, text: &str) -> Option<String> {
    match text {
        "\u{2}" => None,
        "\u{1}" => rust_text(copy).map(|text| fingerprint_text(&text)),
        text => Some(fingerprint_text(text)),
    }
}

/// The inputs of a `submitBatch` (the caller's array), copied a chunk at a time as they are
/// taken. [`BatchInputs::seal`] copies the rest when the call returns: a batch is taken at
/// the call, whatever the caller does with its array and inputs afterwards.
pub struct BatchInputs {
    values: Array,
    len: u32,
    /// The index of the next input to copy.
    next: u32,
    /// How many the next chunk copies.
    chunk: u32,
    /// Whether the inputs need their fingerprints (the options give none).
    prints: bool,
    /// Copies made and not taken yet, each with its fingerprint.
    ready: VecDeque<(JsValue, Option<String>)>,
    /// Why the input after those of `ready` is refused.
    refused: Option<QueueError>,
}

impl BatchInputs {
    /// The inputs of `values` (an array), with their fingerprints when `prints`.
    pub fn new(values: Array, prints: bool) -> Self {
        BatchInputs {
            len: values.length(),
            values,
            next: 0,
            chunk: FIRST_CHUNK,
            prints,
            ready: VecDeque::new(),
            refused: None,
        }
    }

    /// How many inputs the batch has.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Copies every input not copied yet.
    pub fn seal(&mut self) {
        self.copy(self.len.saturating_sub(self.next));
    }

    /// Copies the next `n` inputs (and writes their fingerprints); on a refusal, none after.
    fn copy(&mut self, n: u32) {
        if n == 0 || self.refused.is_some() {
            return;
        }
        let end = self.next.saturating_add(n).min(self.len);
        let slice = self.values.slice(self.next, end);
        match storable_all(&slice, self.prints, self.next) {
            Ok((copies, texts)) => {
                let mut texts = texts.split('\0');
                for copy in copies {
                    let print = match self.prints {
                        true => texts.next().and_then(|t| text_fingerprint(&copy, t)),
                        false => None,
                    };
                    self.ready.push_back((copy, print));
                }
                self.next = end;
            }
            Err(e) => {
                self.refused = Some(e);
                self.next = self.len;
            }
        }
    }

    /// The next input, copied, with its fingerprint; or why it is refused.
    fn take(&mut self) -> Option<Taken<JsValue>> {
        if self.ready.is_empty() {
            self.copy(self.chunk);
            self.chunk = self.chunk.saturating_mul(2).min(MAX_CHUNK);
        }
        match self.ready.pop_front() {
            Some(taken) => Some(Ok(taken)),
            None => self.refused.take().map(Err),
        }
    }
}

/// The inputs of a shared [`BatchInputs`], one by one.
pub struct Taking(pub Rc<RefCell<BatchInputs>>);

impl Iterator for Taking {
    type Item = Taken<JsValue>;

    fn next(&mut self) -> Option<Self::Item> {
        // Never borrowed elsewhere while taking (sealing waits for the call's own work); were
        // it, the batch fails rather than store part of it.
        match self.0.try_borrow_mut() {
            Ok(mut inputs) => inputs.take(),
            Err(_) => Some(Err(QueueError::Storage(
                "a batch's inputs were taken twice at once".into(),
            ))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // The inputs left (a refusal ends them early: an upper bound, as `take` may stop).
        let left = self.0.try_borrow().map_or(0, |inputs| {
            inputs.ready.len() + inputs.len.saturating_sub(inputs.next) as usize
        });
        (0, Some(left))
    }
}
