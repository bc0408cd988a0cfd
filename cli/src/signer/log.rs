//! One log line per request on standard error: when, which op, who asked, the outcome, how long it
//! took. Never a key, a token or a job's content.

use std::io::Write;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::LogFormat;

fn timestamp() -> String {
    OffsetDateTime::from(SystemTime::now()).format(&Rfc3339).unwrap_or_default()
}

#[derive(Clone, Copy)]
pub struct Log {
    pub format: LogFormat,
}

impl Log {
    /// An event with its fields: `event` names it, fields are (name, value) pairs.
    pub fn event(&self, event: &str, fields: &[(&str, Value)]) {
        let line = match self.format {
            LogFormat::Json => {
                let mut object = serde_json::Map::new();
                object.insert("ts".into(), timestamp().into());
                object.insert("event".into(), event.into());
                for (name, value) in fields {
                    object.insert((*name).into(), value.clone());
                }
                Value::Object(object).to_string()
            }
            LogFormat::Text => {
                let mut line = format!("{} signer {event}", timestamp());
                for (name, value) in fields {
                    match value {
                        Value::Null => continue,
                        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"') => {
                            line.push_str(&format!(" {name}={s}"))
                        }
                        other => line.push_str(&format!(" {name}={other}")),
                    }
                }
                line
            }
        };
        // a full or closed stderr must not stop the signer
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    pub fn request(&self, op: Option<&str>, outcome: &str, peer: &str, holder_id: Option<&str>, took: Duration) {
        self.event(
            "request",
            &[
                ("op", op.map_or(Value::Null, Value::from)),
                ("outcome", outcome.into()),
                ("peer", peer.into()),
                ("holder_id", holder_id.map_or(Value::Null, Value::from)),
                ("duration_us", json!(took.as_micros() as u64)),
            ],
        );
    }
}
