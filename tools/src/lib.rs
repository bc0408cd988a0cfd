//! What the vector generators share: named seeds, reproducible next-block keys, and the file format
//! of tests/vectors (tests/vectors/README.md). Every generator gives the same file on every run, so
//! `make vectors-check` can regenerate them all and compare with what is committed. And the test
//! environment every language shares ([`testenv`]).

pub mod testenv;

use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The 32 bytes named `label`: every key of the vectors is one (never a key in use anywhere).
pub fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("trustcore-vectors/{label}")).into()
}

/// [`seed`] in hex, as keys are given to the core.
pub fn seed_hex(label: &str) -> String {
    hex::encode(seed(label))
}

/// The next-block keys of one generator's tokens, in the order it asks for them: a token's bytes
/// depend on its next key, which biscuit-auth otherwise draws at random.
pub struct NextKeys {
    generator: &'static str,
    count: std::cell::Cell<u64>,
}

impl NextKeys {
    pub fn new(generator: &'static str) -> NextKeys {
        NextKeys { generator, count: std::cell::Cell::new(0) }
    }

    pub fn next_seed(&self) -> [u8; 32] {
        self.count.set(self.count.get() + 1);
        seed(&format!("next-key/{}/{}", self.generator, self.count.get()))
    }

    pub fn next_key_pair(&self) -> biscuit_auth::KeyPair {
        let private = biscuit_auth::PrivateKey::from_bytes(&self.next_seed(), biscuit_auth::Algorithm::Ed25519)
            .expect("a 32-byte seed is an Ed25519 key");
        biscuit_auth::KeyPair::from(&private)
    }
}

/// Where the files go: `$TRUSTCORE_VECTORS_OUT` (the drift check writes a scratch copy), else the
/// repository's tests/vectors.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os("TRUSTCORE_VECTORS_OUT") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors"),
    }
}

/// An expectation of failure with `code`.
pub fn err(code: &str) -> Value {
    json!({"error": code})
}

/// One vector file: cases numbered `tc-<name>-0001`, … in the order they are added.
pub struct Suite {
    name: &'static str,
    generator: &'static str,
    pub cases: Vec<Value>,
}

impl Suite {
    /// `generator` is the binary writing it (`env!("CARGO_BIN_NAME")`), named in the file.
    pub fn new(name: &'static str, generator: &'static str) -> Suite {
        Suite { name, generator, cases: Vec::new() }
    }

    pub fn case(&mut self, description: &str, op: &str, input: Value, expect: Value) {
        let id = format!("tc-{}-{:04}", self.name, self.cases.len() + 1);
        self.cases.push(json!({"id": id, "description": description, "op": op, "input": input, "expect": expect}));
    }

    /// Write `<name>.json`; `extra` is a top-level member some files carry (the signer's settings).
    pub fn write(self, description: &str, extra: Option<(&str, Value)>) {
        let mut doc = serde_json::Map::new();
        doc.insert("schema".into(), json!("trustcore-vectors/1"));
        doc.insert("suite".into(), json!(self.name));
        doc.insert("source".into(), json!(format!("written for trustcore by tools/src/bin/{}.rs", self.generator)));
        doc.insert("description".into(), json!(description));
        if let Some((key, value)) = extra {
            doc.insert(key.into(), value);
        }
        doc.insert("numberOfTests".into(), json!(self.cases.len()));
        doc.insert("cases".into(), Value::Array(self.cases));
        let dir = vectors_dir();
        std::fs::create_dir_all(&dir).expect("create the vectors folder");
        let path = dir.join(format!("{}.json", self.name));
        std::fs::write(&path, serde_json::to_string_pretty(&Value::Object(doc)).unwrap() + "\n")
            .expect("write vectors");
        println!("wrote {}", path.display());
    }
}
