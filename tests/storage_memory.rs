//! The storage contract suite on `MemoryStorage<serde_json::Value>` (host).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::contract::{self, Fixture};
use serde_json::Value;
use wasm_job_queue::storage::MemoryStorage;

struct Memory;

impl Fixture for Memory {
    type P = Value;
    type S = MemoryStorage<Value>;

    async fn fresh(&self, queue: &str) -> Self::S {
        MemoryStorage::new(queue)
    }

    fn payload(&self, n: i64) -> Value {
        Value::from(n)
    }

    fn read(&self, p: &Value) -> Option<i64> {
        p.as_i64()
    }
}

macro_rules! case {
    ($name:ident) => {
        #[test]
        fn $name() {
            futures::executor::block_on(contract::$name(&Memory));
        }
    };
}

for_each_case!(case);
