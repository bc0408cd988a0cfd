//! The signer (docs/DESIGN.md §4): the issuer key in one small process, asked over length-prefixed JSON
//! frames to mint tokens and sign jobs, with an audit trail.
//!
//! - [`protocol`]: request and answer frames;
//! - [`service`]: what the signer does with a request (policy, signing, audit), free of sockets;
//! - [`audit`]: the hash-chained, signed audit log and its verifier;
//! - the client, what apps use to reach the daemon: `SignerClient` and its types, at the crate root.

pub mod audit;
pub(crate) mod client;
pub mod protocol;
pub mod service;
pub mod stream;

pub use audit::{verify_audit_log, AuditBreak, AuditLog, AuditRecord, AuditSummary};
pub use protocol::{Op, SignerRequest, PROTOCOL_VERSION};
pub use service::{Answer, Peer, SignerPolicy, SignerService};
pub use stream::SignerStream;
