//! The Redis stores against a fake Redis started here on a loopback port: every odd reply (nils,
//! wrong types, errors, short arrays, a connection cut mid-reply) is STORE_UNAVAILABLE, never a pass;
//! a Redis that accepts and never answers is met by the circuit breaker: one probe per interval, not
//! one connection per request; and all of one request's Redis work ends by its request timeout.

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
    /// Answer `command` with these raw bytes (then close the connection when `cut` is set);
    /// SMISMEMBER gets "not revoked" for `ids` ids and everything else +OK unless it is `command`.
    Reply { command: &'static str, bytes: &'static [u8], cut: bool, ids: usize },
    /// Accept, read, never answer.
    BlackHole,
    /// Answer sanely (`ids` ids not revoked, +OK otherwise) after `delay`, or never once `silent`.
    Sane { ids: usize, delay: Duration, silent: Arc<AtomicBool> },
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
                let _ = match name.as_str() {
                    "SMISMEMBER" => writer.write_all(format!("*{ids}\r\n{}", ":0\r\n".repeat(*ids)).as_bytes()),
                    _ => writer.write_all(b"+OK\r\n"),
                };
            }
            Behaviour::Reply { command, bytes, cut, ids } => {
                if name == *command {
                    let _ = writer.write_all(bytes);
                    if *cut {
                        return;
                    }
                } else if name == "SMISMEMBER" {
                    let _ = writer.write_all(format!("*{ids}\r\n{}", ":0\r\n".repeat(*ids)).as_bytes());
                } else {
                    let _ = writer.write_all(b"+OK\r\n");
                }
            }
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
    let odd: [(&str, &[u8], bool); 14] = [
        ("SMISMEMBER", b"*2\r\n$-1\r\n$-1\r\n", false), // nils read as "not revoked" before
        ("SMISMEMBER", b":0\r\n", false),
        ("SMISMEMBER", b"*1\r\n:0\r\n", false),
        ("SMISMEMBER", b"*2\r\n:0\r\n:2\r\n", false),
        ("SMISMEMBER", b"*2\r\n$1\r\n0\r\n$1\r\n0\r\n", false),
        ("SMISMEMBER", b"-ERR unknown command\r\n", false),
        ("SMISMEMBER", b"*2\r\n:0\r\n", true), // cut mid-reply
        ("SET", b":1\r\n", false),
        ("SET", b"$2\r\nOK\r\n", false),
        ("SET", b"*0\r\n", false),
        ("SET", b"+QUEUED\r\n", false),
        ("SET", b"-READONLY You can't write against a read only replica.\r\n", false),
        ("SET", b"+O", true),
        ("SET", b"", true),
    ];
    for (i, (command, bytes, cut)) in odd.into_iter().enumerate() {
        let fake = FakeRedis::start(Behaviour::Reply { command, bytes, cut, ids });
        let verifier = verifier(&fx, &fake.url());
        let outcome = verifier.authenticate(&proof(&fx, &format!("n-{i}")), &REQUEST, None);
        assert_eq!(
            outcome.map(|_| ()).unwrap_err().code(),
            ErrorCode::StoreUnavailable,
            "{command} answered {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    // the same fake with sane answers passes: the refusals above come from the odd replies
    let fake = FakeRedis::start(Behaviour::Reply { command: "NONE", bytes: b"", cut: false, ids });
    verifier(&fx, &fake.url()).authenticate(&proof(&fx, "sane"), &REQUEST, None).unwrap();
    // revoke: anything but 0 or 1 is no answer
    for bytes in [&b"$-1\r\n"[..], b"+OK\r\n", b":7\r\n", b"-ERR x\r\n"] {
        let fake = FakeRedis::start(Behaviour::Reply { command: "SADD", bytes, cut: false, ids });
        assert_eq!(verifier(&fx, &fake.url()).revoke("rev-1").unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
}

#[test]
fn a_black_holed_redis_gets_one_probe_per_interval_not_a_connection_per_request() {
    let fx = fx();
    let fake = FakeRedis::start(Behaviour::BlackHole);
    let verifier = verifier(&fx, &fake.url());
    // the first request finds out (bounded by the timeouts), the next ones fail at once
    for i in 0..50 {
        let outcome = verifier.authenticate(&proof(&fx, &format!("n-{i}")), &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 1, "one connection for 50 requests inside the interval");
    // after the interval one probe goes through, and fails again
    std::thread::sleep(Duration::from_millis(1100));
    for i in 0..10 {
        let outcome = verifier.authenticate(&proof(&fx, &format!("m-{i}")), &REQUEST, None);
        assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    }
    assert_eq!(fake.accepted.load(Ordering::SeqCst), 2, "one probe after the interval");
}

#[test]
fn one_deadline_covers_all_of_a_requests_redis_work() {
    let fx = fx();
    let silent = Arc::new(AtomicBool::new(false));
    // every command answered after 500 ms: each fits its 2 s command timeout, the two of a request
    // (revocation, then replay) do not fit an 800 ms request timeout together
    let fake = FakeRedis::start(Behaviour::Sane { ids: 2, delay: Duration::from_millis(500), silent: silent.clone() });
    let settings = |request_ms: u64| {
        let mut redis = RedisConfig::new(fake.url());
        redis.connect_timeout = Duration::from_secs(2);
        redis.command_timeout = Duration::from_secs(2);
        redis.request_timeout = Duration::from_millis(request_ms);
        redis.retry_interval = Duration::from_millis(1);
        redis
    };
    let short = verifier_with(&fx, settings(800));
    let outcome = short.authenticate(&proof(&fx, "short"), &REQUEST, None);
    assert_eq!(outcome.map(|_| ()).unwrap_err().code(), ErrorCode::StoreUnavailable);
    // the same Redis with room for both commands: accepted, so the refusal above is the deadline's
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
    // Redis goes silent: the revocation lookup on the pooled connection waits out the request's
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
    // AUTH and SELECT as the URL asks, then the request's own two commands; no CLIENT SETINFO
    assert_eq!(*fake.commands.lock().unwrap(), ["AUTH", "SELECT", "SMISMEMBER", "SET"]);
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
