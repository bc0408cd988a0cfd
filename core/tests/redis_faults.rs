//! The Redis stores against a fake Redis started here on a loopback port: every odd reply (nils,
//! wrong types, errors, short arrays, a connection cut mid-reply) is STORE_UNAVAILABLE, never a pass;
//! a Redis that accepts and never answers is met by the circuit breaker: one probe per interval, not
//! one connection per request; and all of one request's Redis work ends by its request timeout. A
//! request is one script call (EVALSHA, EVAL after NOSCRIPT); a batch is one pipeline of them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trustcore_core::*;

#[path = "support/live_fixture.rs"]
mod live_fixture;
use live_fixture::{fx, proof, Fx, REQUEST};

/// What the fake answers to one command (by name), and what it does otherwise.
#[derive(Clone)]
enum Behaviour {
    /// Answer each command named in `answers` with its raw bytes (then close the connection when
    /// `cut` is set); any other command sanely (see [`sane`]).
    Reply { answers: Answers, cut: bool, ids: usize },
    /// Accept, read, never answer.
    BlackHole,
    /// Answer sanely after `delay`, or never once `silent`.
    Sane { ids: usize, delay: Duration, silent: Arc<AtomicBool> },
}

/// Raw replies by command name.
type Answers = &'static [(&'static str, &'static [u8])];

/// A sane answer: the script says "fresh" (1), SMISMEMBER "not revoked" for `ids` ids, SADD 1,
/// anything else +OK.
fn sane(name: &str, ids: usize) -> Vec<u8> {
    match name {
        "EVALSHA" | "EVAL" | "SADD" => b":1\r\n".to_vec(),
        "SMISMEMBER" => format!("*{ids}\r\n{}", ":0\r\n".repeat(ids)).into_bytes(),
        _ => b"+OK\r\n".to_vec(),
    }
}

struct FakeRedis {
    port: u16,
    accepted: Arc<AtomicUsize>,
    /// The name of every command received, in order.
    commands: Arc<Mutex<Vec<String>>>,
}

impl FakeRedis {
    fn start(behaviour: Behaviour) -> FakeRedis {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (accepted.clone(), commands.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let (behaviour, log) = (behaviour.clone(), log.clone());
                std::thread::spawn(move || serve(stream, behaviour, log));
            }
        });
        FakeRedis { port, accepted, commands }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

/// Read one RESP command (an array of bulk strings): its words.
fn read_command(reader: &mut BufReader<TcpStream>) -> Option<Vec<String>> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let count: usize = line.trim().strip_prefix('*')?.parse().ok()?;
    let mut words = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let len: usize = line.trim().strip_prefix('$')?.parse().ok()?;
        let mut word = vec![0; len + 2];
        reader.read_exact(&mut word).ok()?;
        words.push(String::from_utf8_lossy(&word[..len]).into_owned());
    }
    Some(words)
}

fn serve(stream: TcpStream, behaviour: Behaviour, log: Arc<Mutex<Vec<String>>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    while let Some(words) = read_command(&mut reader) {
        let name = words.first().map(|w| w.to_ascii_uppercase()).unwrap_or_default();
        log.lock().unwrap().push(name.clone());
        match &behaviour {
            Behaviour::BlackHole => {}
            Behaviour::Sane { ids, delay, silent } => {
                std::thread::sleep(*delay);
                if silent.load(Ordering::SeqCst) {
                    continue;
                }
                let _ = writer.write_all(&sane(&name, *ids));
            }
            Behaviour::Reply { answers, cut, ids } => match answers.iter().find(|(command, _)| name == *command) {
                Some((_, bytes)) => {
                    let _ = writer.write_all(bytes);
                    if *cut {
                        return;
                    }
                }
                None => {
                    let _ = writer.write_all(&sane(&name, *ids));
                }
            },
        }
    }
}

fn verifier(fx: &Fx, url: &str) -> Verifier {
    let mut redis = RedisConfig::new(url);
    redis.connect_timeout = Duration::from_millis(300);
    redis.command_timeout = Duration::from_millis(200);
    verifier_with(fx, redis)
}

fn verifier_with(fx: &Fx, redis: RedisConfig) -> Verifier {
    let mut config = VerifierConfig::new(IssuerKeys::one(fx.issuer.public_key()));
    config.redis = Some(redis);
    Verifier::new(config).unwrap()
}

#[test]
fn every_odd_reply_is_store_unavailable_never_a_pass() {
    let fx = fx();
    // a minted token has two ids: the app id and the authority block's
    let ids = 2;
    // the script answers exactly 0, 1 or 2: nils, other integers, strings, arrays, errors (NOSCRIPT
    // too, when EVAL then fails), a reply cut short are no answer
    let odd: [(Answers, bool); 14] = [
        (&[("EVALSHA", b"$-1\r\n")], false),
        (&[("EVALSHA", b":3\r\n")], false),
        (&[("EVALSHA", b":-1\r\n")], false),
        (&[("EVALSHA", b"+OK\r\n")], false),
        (&[("EVALSHA", b"$1\r\n1\r\n")], false),
        (&[("EVALSHA", b"*1\r\n:1\r\n")], false),
        (&[("EVALSHA", b"*0\r\n")], false),
        (&[("EVALSHA", b"-ERR Error running script\r\n")], false),
        (&[("EVALSHA", b"-READONLY You can't write against a read only replica.\r\n")], false),
        (&[("EVALSHA", b"-BUSY Redis is busy running a script.\r\n")], false),
        (&[("EVALSHA", b":")], true), // cut mid-reply
        (&[("EVALSHA", b"")], true),
        (&[("EVALSHA", b"-NOSCRIPT No matching script.\r\n"), ("EVAL", b"$-1\r\n")], false),
        (&[("EVALSHA", b"-NOSCRIPT No matching script.\r\n"), ("EVAL", b"-NOSCRIPT x\r\n")], false),
    ];
    for (i, (answers, cut)) in odd.into_iter().enumerate() {
        let fake = FakeRedis::start(Behaviour::Reply { answers, cut, ids });
        let verifier = verifier(&fx, &fake.url());
        let outcome = verifier.authenticate(&proof(&fx, &format!("n-{i}")), &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable, "answers {answers:?}");
        // a batch reads the same replies in its pipeline
        let batch = [(&proof(&fx, &format!("b-{i}")), REQUEST), (&proof(&fx, &format!("c-{i}")), REQUEST)];
        for outcome in verifier_fresh(&fx, &fake.url()).authenticate_batch(&batch, None).unwrap() {
            assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable, "batch {answers:?}");
        }
    }
    // the same fake with sane answers passes: the refusals above come from the odd replies
    let fake = FakeRedis::start(Behaviour::Reply { answers: &[], cut: false, ids });
    verifier(&fx, &fake.url()).authenticate(&proof(&fx, "sane"), &REQUEST, None).unwrap();
    // revoke: anything but 0 or 1 is no answer
    for bytes in [&b"$-1\r\n"[..], b"+OK\r\n", b":7\r\n", b"-ERR x\r\n"] {
        let answers: Answers = Box::leak(Box::new([("SADD", bytes)]));
        let fake = FakeRedis::start(Behaviour::Reply { answers, cut: false, ids });
        assert_eq!(verifier(&fx, &fake.url()).revoke("rev-1").unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    // a refused request's revocation lookup (its token revoked?): SMISMEMBER answers strictly too
    let mut forged = proof(&fx, "forged");
    forged.signature = "00".repeat(64);
    for bytes in [&b"*2\r\n$-1\r\n$-1\r\n"[..], b":0\r\n", b"*1\r\n:0\r\n", b"*2\r\n:0\r\n:2\r\n", b"-ERR x\r\n"] {
        let answers: Answers = Box::leak(Box::new([("SMISMEMBER", bytes)]));
        let fake = FakeRedis::start(Behaviour::Reply { answers, cut: false, ids });
        let outcome = verifier(&fx, &fake.url()).authenticate(&forged, &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
}

/// A verifier on `url` with its own connections (a fresh breaker).
fn verifier_fresh(fx: &Fx, url: &str) -> Verifier {
    verifier(fx, url)
}

#[test]
fn the_script_is_one_command_a_request_and_noscript_sends_its_text() {
    let fx = fx();
    let noscript: &[(&str, &[u8])] = &[("EVALSHA", b"-NOSCRIPT No matching script. Please use EVAL.\r\n")];
    let fake = FakeRedis::start(Behaviour::Reply { answers: noscript, cut: false, ids: 2 });
    let verifier = verifier(&fx, &fake.url());
    verifier.authenticate(&proof(&fx, "one"), &REQUEST, None).unwrap();
    assert_eq!(*fake.commands.lock().unwrap(), ["EVALSHA", "EVAL"]);
    // a batch of three: one pipeline of EVALSHA, sent again as EVAL after the NOSCRIPT
    fake.commands.lock().unwrap().clear();
    let proofs: Vec<WorkerProof> = (0..3).map(|i| proof(&fx, &format!("b-{i}"))).collect();
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, REQUEST)).collect();
    for outcome in verifier.authenticate_batch(&batch, None).unwrap() {
        outcome.unwrap();
    }
    assert_eq!(*fake.commands.lock().unwrap(), ["EVALSHA", "EVALSHA", "EVALSHA", "EVAL", "EVAL", "EVAL"]);
    // what the script answers is each request's outcome: 0 a replay, 2 revoked
    for (bytes, code) in [(&b":0\r\n"[..], ErrorCode::Replayed), (b":2\r\n", ErrorCode::Revoked)] {
        let answers: Answers = Box::leak(Box::new([("EVALSHA", bytes)]));
        let fake = FakeRedis::start(Behaviour::Reply { answers, cut: false, ids: 2 });
        let outcome = verifier_fresh(&fx, &fake.url()).authenticate(&proof(&fx, "x"), &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), code);
        let batch = [(&proof(&fx, "y"), REQUEST)];
        let outcome = verifier_fresh(&fx, &fake.url()).authenticate_batch(&batch, None).unwrap().remove(0);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), code);
    }
}

#[test]
fn a_forged_request_sends_no_script_and_a_revoked_one_is_revoked_whatever_else_fails() {
    let fx = fx();
    let mut forged = proof(&fx, "forged");
    forged.signature = "00".repeat(64);
    let mut stale = proof(&fx, "stale");
    stale.timestamp = "1000".into();
    // not revoked: POP_FAILED and STALE_REQUEST, after one read (the revocation lookup) and no write
    let fake = FakeRedis::start(Behaviour::Reply { answers: &[], cut: false, ids: 2 });
    let verifier = verifier(&fx, &fake.url());
    let code = |p: &WorkerProof| verifier.authenticate(p, &REQUEST, None).map(|_| ()).unwrap_err().code();
    assert_eq!(code(&forged), ErrorCode::PopFailed);
    assert_eq!(code(&stale), ErrorCode::StaleRequest);
    assert_eq!(*fake.commands.lock().unwrap(), ["SMISMEMBER", "SMISMEMBER"], "no script for a refused request");
    // revoked: REVOKED for both, as the in-memory stores answer (their revocation check comes first)
    let revoked: &[(&str, &[u8])] = &[("SMISMEMBER", b"*2\r\n:0\r\n:1\r\n")];
    let fake = FakeRedis::start(Behaviour::Reply { answers: revoked, cut: false, ids: 2 });
    let verifier = verifier_fresh(&fx, &fake.url());
    for p in [&forged, &stale] {
        let outcome = verifier.authenticate(p, &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::Revoked);
    }
    let batch = [(&forged, REQUEST), (&stale, REQUEST)];
    for outcome in verifier.authenticate_batch(&batch, None).unwrap() {
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::Revoked);
    }
    assert!(!fake.commands.lock().unwrap().iter().any(|c| c.starts_with("EVAL")), "nothing recorded");
}

#[test]
fn a_batch_is_one_pipeline_and_its_replies_are_read_inside_the_deadline() {
    let fx = fx();
    let proofs: Vec<WorkerProof> = (0..4).map(|i| proof(&fx, &format!("p-{i}"))).collect();
    let batch: Vec<(&WorkerProof, Request)> = proofs.iter().map(|p| (p, REQUEST)).collect();
    // every reply 300 ms after its command: four take 1.2 s, past an 700 ms request timeout (each
    // reply fits its 2 s command timeout)
    let silent = Arc::new(AtomicBool::new(false));
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::from_millis(300), silent });
    let settings = |request_ms: u64| {
        let mut redis = RedisConfig::new(fake.url());
        redis.connect_timeout = Duration::from_secs(2);
        redis.command_timeout = Duration::from_secs(2);
        redis.request_timeout = Duration::from_millis(request_ms);
        redis
    };
    let started = Instant::now();
    let outcomes = verifier_with(&fx, settings(700)).authenticate_batch(&batch, None).unwrap();
    let spent = started.elapsed();
    for outcome in outcomes {
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    // a deadline bound, not a speed: reading each reply with the whole socket timeout would wait
    // for the fourth reply (1.2 s)
    assert!(spent < Duration::from_millis(1100), "a 700 ms request timeout took {spent:?}");
    // with room for all four: accepted, in one pipeline on one connection
    let silent = Arc::new(AtomicBool::new(false));
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::from_millis(300), silent });
    let mut redis = RedisConfig::new(fake.url());
    redis.request_timeout = Duration::from_secs(3);
    for outcome in verifier_with(&fx, redis).authenticate_batch(&batch, None).unwrap() {
        outcome.unwrap();
    }
    assert_eq!(*fake.commands.lock().unwrap(), ["EVALSHA"; 4]);
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn a_black_holed_redis_gets_one_probe_per_interval_not_a_connection_per_request() {
    let fx = fx();
    let fake = FakeRedis::start(Behaviour::BlackHole);
    let mut redis = RedisConfig::new(fake.url());
    redis.connect_timeout = Duration::from_millis(300);
    redis.command_timeout = Duration::from_millis(200);
    // each request verifies its proof before it reaches Redis (slow in a debug build on a busy
    // machine): an interval long enough for 50 of them, whatever the machine's load
    redis.retry_interval = Duration::from_secs(2);
    let verifier = verifier_with(&fx, redis);
    let (first, then): (Vec<_>, Vec<_>) = (0..60)
        .map(|i| proof(&fx, &format!("n-{i}")))
        .partition(|p| p.nonce.trim_start_matches("n-").parse::<u32>().unwrap() < 50);
    // the first request finds out (bounded by the timeouts), the next ones fail at once
    for p in &first {
        let outcome = verifier.authenticate(p, &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 1, "one connection for 50 requests inside the interval");
    // after the interval one probe goes through, and fails again
    std::thread::sleep(Duration::from_millis(2100));
    for p in &then {
        let outcome = verifier.authenticate(p, &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 2, "one probe after the interval");
}

#[test]
fn one_deadline_covers_all_of_a_requests_redis_work() {
    let fx = fx();
    let silent = Arc::new(AtomicBool::new(false));
    // every command answered after 300 ms: each fits its 2 s command timeout, the three of a
    // request on a new connection (AUTH, SELECT, the script) do not fit an 800 ms request timeout
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::from_millis(300), silent: silent.clone() });
    let settings = |request_ms: u64| {
        let mut redis = RedisConfig::new(format!("redis://:secret@127.0.0.1:{}/3", fake.port));
        redis.connect_timeout = Duration::from_secs(2);
        redis.command_timeout = Duration::from_secs(2);
        redis.request_timeout = Duration::from_millis(request_ms);
        redis.retry_interval = Duration::from_millis(1);
        redis
    };
    let short = verifier_with(&fx, settings(800));
    let outcome = short.authenticate(&proof(&fx, "short"), &REQUEST, None);
    assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    // the same Redis with room for all three: accepted, so the refusal above is the deadline's
    let long = verifier_with(&fx, settings(3000));
    long.authenticate(&proof(&fx, "long"), &REQUEST, None).unwrap();
}

#[test]
fn a_request_whose_deadline_is_spent_does_not_reconnect_and_try_again() {
    let fx = fx();
    let silent = Arc::new(AtomicBool::new(false));
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::ZERO, silent: silent.clone() });
    let mut redis = RedisConfig::new(fake.url());
    redis.command_timeout = Duration::from_millis(400);
    redis.request_timeout = Duration::from_millis(400);
    let verifier = verifier_with(&fx, redis);
    verifier.authenticate(&proof(&fx, "warm"), &REQUEST, None).unwrap();
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 1, "one pooled connection");
    // Redis goes silent: the script on the pooled connection waits out the request's
    // whole budget; before the deadline it was retried on a fresh connection (another connect and
    // command timeout), now the request ends there
    silent.store(true, Ordering::SeqCst);
    let outcome = verifier.authenticate(&proof(&fx, "silent"), &REQUEST, None);
    assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 1, "no second connection inside a spent deadline");
}

#[test]
fn a_password_and_a_database_are_set_up_one_bounded_command_at_a_time() {
    let fx = fx();
    let silent = Arc::new(AtomicBool::new(false));
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::ZERO, silent });
    let verifier = verifier(&fx, &format!("redis://:secret@127.0.0.1:{}/3", fake.port));
    verifier.authenticate(&proof(&fx, "set-up"), &REQUEST, None).unwrap();
    // AUTH and SELECT as the URL asks, then the request's one script; no CLIENT SETINFO
    assert_eq!(*fake.commands.lock().unwrap(), ["AUTH", "SELECT", "EVALSHA"]);
}

#[test]
fn a_silent_redis_costs_a_request_its_request_timeout_once_even_while_connecting() {
    let fx = fx();
    let fake = FakeRedis::start(Behaviour::BlackHole);
    // a password and a database: two setup commands before the first real one
    let mut redis = RedisConfig::new(format!("redis://:secret@127.0.0.1:{}/3", fake.port));
    redis.connect_timeout = Duration::from_secs(5);
    redis.command_timeout = Duration::from_secs(5);
    redis.request_timeout = Duration::from_millis(400);
    let verifier = verifier_with(&fx, redis);
    let started = Instant::now();
    let outcome = verifier.authenticate(&proof(&fx, "silent"), &REQUEST, None);
    let spent = started.elapsed();
    assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    // a deadline bound, not a speed: the redis crate's pipelined setup waited the whole budget once
    // per setup command (two here: 800 ms and more), and twice with no password at all
    assert!(spent < Duration::from_millis(700), "a 400 ms request timeout took {spent:?}");
    assert_eq!(*fake.commands.lock().unwrap(), ["AUTH"], "nothing sent after the first unanswered command");
}
