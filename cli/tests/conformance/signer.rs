//! The `signer_exchange` and `signer_call` ops: a real `trustcore signer serve` started once from
//! the file's `signer` settings, raw frames sent to it, and the same requests through SignerClient.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Map, Value};
use trustcore_core::*;
use trustcore_tools::testenv::{Listen, Signer};

pub struct Daemon {
    signer: Signer,
    pub socket: PathBuf,
    pub issuer_public_hex: String,
}

/// The `trustcore` binary: $TRUSTCORE_BIN (the release build `make test` shares), else the one
/// Cargo built for this test.
fn binary() -> PathBuf {
    std::env::var_os("TRUSTCORE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_trustcore")))
}

impl Daemon {
    pub fn start(settings: &Value) -> Daemon {
        let args: Vec<String> =
            settings["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().into()).collect();
        let signer = Signer::start(&binary(), super::s(settings, "issuer_seed_hex"), false, &args)
            .unwrap_or_else(|e| panic!("start trustcore signer serve: {e}"));
        let Listen::Socket(socket) = &signer.listen else { unreachable!("started on a socket") };
        let socket = socket.clone();
        Daemon { signer, socket, issuer_public_hex: super::s(settings, "issuer_public_hex").to_owned() }
    }

    /// Send `frame_hex` on a fresh connection, close the writing half, read one answer.
    fn exchange(&self, frame: &[u8]) -> Map<String, Value> {
        let mut stream = UnixStream::connect(&self.socket).expect("connect to the signer");
        stream.write_all(frame).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let answer = read_frame_timeout(&mut stream, Duration::from_secs(10)).expect("an answer frame");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        answer
    }

    /// The outcome of a result: the result itself plus what its token says, when it has one.
    fn outcome(&self, id: Option<Value>, result: Map<String, Value>) -> super::Outcome {
        let mut outcome = json!({"result": result});
        if let Some(id) = id {
            outcome["id"] = id;
        }
        if let Some(token) = result.get("token").and_then(Value::as_str) {
            let token = parse_token(&IssuerKeys::from_hex(&self.issuer_public_hex)?, token)?;
            outcome["token_authority_source"] = json!(token.block_source(0)?);
            outcome["token_root_key_id"] = json!(token.root_key_id());
        }
        Ok(outcome)
    }

    pub fn run(&self, op: &str, input: &Value) -> super::Outcome {
        match op {
            "signer_exchange" => {
                let answer = self.exchange(&super::bytes(input, "frame_hex"));
                let id = answer.get("id").cloned().unwrap_or(Value::Null);
                match answer.get("ok") {
                    Some(Value::Bool(true)) => self.outcome(Some(id), answer["result"].as_object().unwrap().clone()),
                    _ => {
                        let code = answer["error"]["code"].as_str().expect("an error code");
                        Err(Error::new(ErrorCode::from_name(code).expect("a known code"), "signer refused"))
                    }
                }
            }
            "signer_call" => {
                let address = match input.get("address").and_then(Value::as_str) {
                    Some(address) => SignerAddress::parse(address)?,
                    None => SignerAddress::unix(&self.socket)?,
                };
                let client = SignerClient::new(address, SignerClientOptions::default())?;
                let args = &input["args"];
                let result: Map<String, Value> = match super::s(input, "call") {
                    "public_key" => {
                        let (public_key, key_id) = client.public_key()?;
                        json!({"public_key": public_key, "key_id": key_id}).as_object().unwrap().clone()
                    }
                    "health" => client.health()?,
                    "mint" => {
                        let facts = args["facts"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|pair| {
                                let values = pair[1].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned());
                                (pair[0].as_str().unwrap().to_owned(), values.collect())
                            })
                            .collect();
                        let minted = client.mint(&MintRequest {
                            public_hex: super::s(args, "public_hex").into(),
                            holder_id: super::s(args, "holder_id").into(),
                            facts,
                            revocation_id: args.get("revocation_id").and_then(Value::as_str).map(str::to_owned),
                            root_key_id: None,
                            expires_at: super::f(args, "expires_at"),
                            delegation_depth: 0,
                        })?;
                        json!({"token": minted.token, "revocation_id": minted.revocation_id, "expires_at": minted.expires_at})
                            .as_object()
                            .unwrap()
                            .clone()
                    }
                    "sign_job" => {
                        let sig = client.sign_job(&super::obj(args, "job"), super::s(args, "worker_id"))?;
                        json!({"sig": sig}).as_object().unwrap().clone()
                    }
                    other => panic!("unknown signer call {other:?}"),
                };
                self.outcome(None, result)
            }
            other => panic!("unknown signer op {other:?}"),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM, as an operator would stop it; it must exit 0 and remove its socket
        let (status, socket_gone) = self.signer.stop().expect("stop the signer");
        assert!(status.success(), "the signer exited with {status} on SIGTERM");
        assert!(socket_gone, "the signer left its socket behind");
    }
}
