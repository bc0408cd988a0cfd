//! Writes tests/vectors/signer.json: the signer protocol, request frames → answers (format:
//! tests/vectors/README.md, "The signer"). Expectations are written by hand; only the job signature
//! and the printed authority block come from running the core. Run:
//! `cargo run -p trustcore-tools --bin make_signer_vectors`, then review the diff.

use serde_json::{json, Value};
use trustcore_core::*;
use trustcore_tools::{err, seed_hex, Suite};

/// 2100-01-01T00:00:00Z: inside the vectors' signer's 100-year max ttl until about 2186.
const EXPIRES: u64 = 4_102_444_800;
/// Far past any max ttl the vectors' signer allows.
const TOO_LATE: u64 = 9_999_999_999;

fn frame_hex(object: Value) -> String {
    hex::encode(encode_frame(object.as_object().unwrap()).unwrap())
}

fn main() {
    let issuer = IssuerKey::from_secret_hex(&seed_hex("signer-issuer")).unwrap();
    let holder = WorkerKey::from_secret_hex(&seed_hex("worker")).unwrap();
    let public = issuer.public_hex();
    let holder_hex = holder.public_hex();
    let authority = |revocation: &str| {
        format!(
            "worker_key(\"{holder_hex}\");\nworker_id(\"gpu-1\");\nright(\"abort\");\nright(\"lease\");\nlane(\"a\");\nrevocation(\"{revocation}\");\ncheck if time($t), $t <= 2100-01-01T00:00:00Z;\n"
        )
    };
    let mint_args = |revocation: Option<&str>, expires: Value| {
        let mut args = json!({
            "public_hex": holder_hex, "holder_id": "gpu-1",
            "facts": [["right", ["lease", "abort"]], ["lane", ["a"]]], "expires_at": expires,
        });
        if let Some(id) = revocation {
            args["revocation_id"] = json!(id);
        }
        args
    };
    let job = json!({"job_id": "j-1", "episode": "e1", "steps": 3});
    let job_sig = sign_job(&issuer, job.as_object().unwrap(), "gpu-1").unwrap();
    let mut suite = Suite::new("signer", env!("CARGO_BIN_NAME"));
    let mut case =
        |description: &str, op: &str, input: Value, expect: Value| suite.case(description, op, input, expect);
    let request = |id: Value, op: &str, args: Value| json!({"v": 1, "id": id, "op": op, "args": args});
    let exchange = |frame: Value| json!({"frame_hex": frame_hex(frame)});

    // ---- the protocol, frame by frame
    case(
        "public_key answers the issuer key and the root key id",
        "signer_exchange",
        exchange(request(json!(1), "public_key", json!({}))),
        json!({"id": 1, "result": {"public_key": public, "key_id": 7}}),
    );
    case(
        "health answers ok",
        "signer_exchange",
        exchange(request(json!(2), "health", json!({}))),
        json!({"id": 2, "result": {"status": "ok", "public_key": public, "key_id": 7}, "result_has": ["audit", "version"]}),
    );
    case(
        "a string id is echoed",
        "signer_exchange",
        exchange(request(json!("req-α"), "public_key", json!({}))),
        json!({"id": "req-α", "result": {"key_id": 7}}),
    );
    case(
        "mint: the authority block as the core mints it, with the signer's root key id",
        "signer_exchange",
        exchange(request(json!(3), "mint", mint_args(Some("rev-1"), json!(EXPIRES)))),
        json!({"result": {"revocation_id": "rev-1", "expires_at": EXPIRES}, "result_has": ["token"],
               "token_authority_source": authority("rev-1"), "token_root_key_id": 7}),
    );
    case(
        "mint: a fractional expiry is cut to whole seconds",
        "signer_exchange",
        exchange(request(json!(4), "mint", mint_args(Some("rev-1"), json!(EXPIRES as f64 + 0.9)))),
        json!({"result": {"expires_at": EXPIRES}, "token_authority_source": authority("rev-1")}),
    );
    case(
        "mint: without a revocation id the signer picks one",
        "signer_exchange",
        exchange(request(json!(5), "mint", mint_args(None, json!(EXPIRES)))),
        json!({"result": {"expires_at": EXPIRES}, "result_has": ["token", "revocation_id"]}),
    );
    case(
        "mint: an expiry past --max-ttl is refused",
        "signer_exchange",
        exchange(request(json!(6), "mint", mint_args(Some("rev-1"), json!(TOO_LATE)))),
        err("SIGNER_REFUSED"),
    );
    let mut ungranted = mint_args(Some("rev-1"), json!(EXPIRES));
    ungranted["facts"] = json!([["right", ["lease"]], ["admin", ["yes"]]]);
    case(
        "mint: a predicate outside --allow-predicate is refused",
        "signer_exchange",
        exchange(request(json!(7), "mint", ungranted.clone())),
        err("SIGNER_REFUSED"),
    );
    let mut reserved = mint_args(Some("rev-1"), json!(EXPIRES));
    reserved["facts"] = json!([["worker_key", ["00"]]]);
    case(
        "mint: a reserved predicate is not grantable either",
        "signer_exchange",
        exchange(request(json!(8), "mint", reserved)),
        err("SIGNER_REFUSED"),
    );
    let mut bad_key = mint_args(Some("rev-1"), json!(EXPIRES));
    bad_key["public_hex"] = json!("zz");
    case(
        "mint: a holder key that is not hex",
        "signer_exchange",
        exchange(request(json!(9), "mint", bad_key.clone())),
        err("MALFORMED_INPUT"),
    );
    let mut no_expiry = mint_args(Some("rev-1"), json!(EXPIRES));
    no_expiry.as_object_mut().unwrap().remove("expires_at");
    case("mint: no expiry", "signer_exchange", exchange(request(json!(10), "mint", no_expiry)), err("MALFORMED_INPUT"));
    let mut text_expiry = mint_args(Some("rev-1"), json!(EXPIRES));
    text_expiry["expires_at"] = json!("2100-01-01");
    case(
        "mint: an expiry that is not a number",
        "signer_exchange",
        exchange(request(json!(11), "mint", text_expiry)),
        err("MALFORMED_INPUT"),
    );
    let mut object_facts = mint_args(Some("rev-1"), json!(EXPIRES));
    object_facts["facts"] = json!({"right": ["lease"]});
    case(
        "mint: facts as an object (their order would be lost to JCS)",
        "signer_exchange",
        exchange(request(json!(12), "mint", object_facts)),
        err("MALFORMED_INPUT"),
    );
    let mut number_holder = mint_args(Some("rev-1"), json!(EXPIRES));
    number_holder["holder_id"] = json!(1);
    case(
        "mint: a holder id that is not a string",
        "signer_exchange",
        exchange(request(json!(13), "mint", number_holder)),
        err("MALFORMED_INPUT"),
    );
    let mut extra = mint_args(Some("rev-1"), json!(EXPIRES));
    extra["root_key_id"] = json!(1);
    case(
        "mint: an argument the op does not take (the signer picks the root key id)",
        "signer_exchange",
        exchange(request(json!(14), "mint", extra)),
        err("MALFORMED_INPUT"),
    );
    case(
        "sign_job: the same signature as the core's sign_job",
        "signer_exchange",
        exchange(request(json!(15), "sign_job", json!({"job": job, "worker_id": "gpu-1"}))),
        json!({"id": 15, "result": {"sig": job_sig}}),
    );
    case(
        "sign_job: a job that is not an object",
        "signer_exchange",
        exchange(request(json!(16), "sign_job", json!({"job": [1], "worker_id": "gpu-1"}))),
        err("MALFORMED_INPUT"),
    );
    case(
        "sign_job: no worker id",
        "signer_exchange",
        exchange(request(json!(17), "sign_job", json!({"job": job}))),
        err("MALFORMED_INPUT"),
    );
    case(
        "an unknown op",
        "signer_exchange",
        exchange(request(json!(18), "export_key", json!({}))),
        json!({"id": 18, "error": "MALFORMED_INPUT"}),
    );
    case(
        "another protocol version",
        "signer_exchange",
        exchange(json!({"v": 2, "id": 19, "op": "health", "args": {}})),
        err("MALFORMED_INPUT"),
    );
    case("no op", "signer_exchange", exchange(json!({"v": 1, "id": 20})), err("MALFORMED_INPUT"));
    case(
        "args that are not an object",
        "signer_exchange",
        exchange(json!({"v": 1, "id": 21, "op": "health", "args": "x"})),
        err("MALFORMED_INPUT"),
    );
    case(
        "a request field the protocol does not have",
        "signer_exchange",
        exchange(json!({"v": 1, "id": 22, "op": "health", "args": {}, "key": "x"})),
        err("MALFORMED_INPUT"),
    );
    case("a body that is not JSON", "signer_exchange", json!({"frame_hex": "000000037b7b7b"}), err("FRAME_INVALID"));
    case("a body that is an array", "signer_exchange", json!({"frame_hex": "000000025b5d"}), err("FRAME_INVALID"));
    case(
        "a length over 1 MiB, refused on the length alone",
        "signer_exchange",
        json!({"frame_hex": "00100001"}),
        err("FRAME_INVALID"),
    );
    case("a frame cut short", "signer_exchange", json!({"frame_hex": "0000000a7b2276223a"}), err("FRAME_INVALID"));
    case("a header cut short", "signer_exchange", json!({"frame_hex": "0000"}), err("FRAME_INVALID"));

    // ---- the same through each binding's SignerClient
    let call = |name: &str, args: Value| json!({"call": name, "args": args});
    case(
        "client: public_key",
        "signer_call",
        call("public_key", json!({})),
        json!({"result": {"public_key": public, "key_id": 7}}),
    );
    case("client: health", "signer_call", call("health", json!({})), json!({"result": {"status": "ok", "key_id": 7}}));
    case(
        "client: mint",
        "signer_call",
        call("mint", mint_args(Some("rev-2"), json!(EXPIRES))),
        json!({"result": {"revocation_id": "rev-2", "expires_at": EXPIRES}, "token_authority_source": authority("rev-2"),
               "token_root_key_id": 7}),
    );
    case(
        "client: mint past --max-ttl",
        "signer_call",
        call("mint", mint_args(Some("rev-2"), json!(TOO_LATE))),
        err("SIGNER_REFUSED"),
    );
    case("client: mint of an ungranted predicate", "signer_call", call("mint", ungranted), err("SIGNER_REFUSED"));
    case("client: mint with a bad holder key", "signer_call", call("mint", bad_key), err("MALFORMED_INPUT"));
    case(
        "client: sign_job",
        "signer_call",
        call("sign_job", json!({"job": job, "worker_id": "gpu-1"})),
        json!({"result": {"sig": job_sig}}),
    );
    let mut unreachable = call("health", json!({}));
    unreachable["address"] = json!("unix:/nonexistent-trustcore-dir/signer.sock");
    case("client: no signer at the address", "signer_call", unreachable, err("SIGNER_UNAVAILABLE"));

    let settings = json!({
        "issuer_seed_hex": issuer.secret_hex().as_str(),
        "issuer_public_hex": public,
        "args": ["--max-ttl", "3153600000", "--allow-predicate", "right", "--allow-predicate", "lane", "--key-id", "7"],
    });
    suite.write(
        "the signer protocol (docs/DESIGN.md §4): request frames to a live `trustcore signer serve`, answers and codes",
        Some(("signer", settings)),
    );
}
