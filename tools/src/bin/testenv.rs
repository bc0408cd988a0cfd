//! `testenv`: a redis-server or a signer for another language's tests, as a child process they
//! drive over stdin and stdout, one line each way (tools/src/testenv.rs does the work).
//!
//!   testenv redis [--unix]
//!   testenv signer --seed-hex HEX [--tcp] [--bin PATH] [-- SIGNER ARGS...]
//!
//! Once ready it prints one JSON line: redis `{"url", "port", "pid", "unix_url", "socket"}` (the last
//! two null without `--unix`), signer `{"address", "socket"
//! (or null), "port" (or null), "dir", "log", "pid"}`. Then it reads commands, one per line, and
//! answers each with one JSON line (`{"ok": true, …}` or `{"ok": false, "error": "…"}`):
//! `kill` (SIGKILL), `pause` (SIGSTOP), `resume` (SIGCONT), `restart` (again, same port or socket),
//! and for the signer `stop` (SIGTERM; answers `status` and `socket_gone`) and `log`. When its
//! stdin closes (the test ended, or died) it kills what it started and removes its files.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde_json::{json, Value};
use trustcore_tools::testenv::{Listen, RedisServer, Signer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result =
        match args.first().map(String::as_str) {
            Some("redis") if args.len() == 1 => redis(false),
            Some("redis") if args.len() == 2 && args[1] == "--unix" => redis(true),
            Some("signer") => signer(&args[1..]),
            _ => Err("usage: testenv redis [--unix] | testenv signer --seed-hex HEX [--tcp] [--bin PATH] [-- ARGS...]"
                .into()),
        };
    if let Err(error) = result {
        // the one line the caller reads says why, then the exit status
        println!("{}", json!({"ok": false, "error": error}));
        std::process::exit(1);
    }
}

/// On SIGINT, SIGTERM or SIGHUP (a test runner interrupted), remove `dir` and exit: the servers
/// die with this process (they were started to), and no key file stays behind.
fn clean_up_on_signals(dir: Option<PathBuf>) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            if let Some(dir) = dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(1);
        }
    });
    Ok(())
}

/// Print `value`, then answer each command line with `handle`'s answer until stdin closes.
fn serve(ready: Value, mut handle: impl FnMut(&str) -> Result<Value, String>) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}").and_then(|_| out.flush()).map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match handle(line.trim()) {
            Ok(Value::Object(mut fields)) => {
                fields.insert("ok".into(), json!(true));
                Value::Object(fields)
            }
            Ok(_) => json!({"ok": true}),
            Err(error) => json!({"ok": false, "error": error}),
        };
        if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    Ok(())
}

fn redis(unix: bool) -> Result<(), String> {
    let mut server = RedisServer::start_with(unix)?;
    clean_up_on_signals(server.socket.as_ref().and_then(|s| s.parent()).map(PathBuf::from))?;
    let ready = json!({"url": server.url(), "port": server.port, "pid": server.pid(),
                       "unix_url": server.unix_url(), "socket": server.socket});
    serve(ready, |command| match command {
        "kill" => {
            server.kill();
            Ok(json!({}))
        }
        "pause" => {
            server.pause();
            Ok(json!({}))
        }
        "resume" => {
            server.resume();
            Ok(json!({}))
        }
        "restart" => server.restart().map(|_| json!({"pid": server.pid()})),
        other => Err(format!("unknown command {other:?}")),
    })
}

fn signer(args: &[String]) -> Result<(), String> {
    let (mut seed, mut tcp, mut binary, mut rest) = (None, false, None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed-hex" => seed = args.next().cloned(),
            "--tcp" => tcp = true,
            "--bin" => binary = args.next().map(PathBuf::from),
            "--" => rest.extend(args.by_ref().cloned()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    let seed = seed.ok_or("--seed-hex is required")?;
    // the signer under test: --bin, else $TRUSTCORE_BIN (the Makefile exports it)
    let binary = binary
        .or_else(|| std::env::var_os("TRUSTCORE_BIN").map(PathBuf::from))
        .ok_or("no signer binary: pass --bin or set TRUSTCORE_BIN (make signer-bin builds it)")?;
    let mut signer = Signer::start(&binary, &seed, tcp, &rest)?;
    clean_up_on_signals(Some(signer.dir.clone()))?;
    let (socket, port) = match &signer.listen {
        Listen::Socket(path) => (json!(path), Value::Null),
        Listen::Tcp(port) => (Value::Null, json!(port)),
    };
    let ready = json!({"address": signer.address(), "socket": socket, "port": port, "dir": signer.dir,
                       "log": signer.log, "pid": signer.pid()});
    serve(ready, |command| match command {
        "stop" => {
            signer.stop().map(|(status, socket_gone)| json!({"status": status.code(), "socket_gone": socket_gone}))
        }
        "kill" => {
            signer.kill();
            Ok(json!({}))
        }
        "pause" => {
            signer.pause();
            Ok(json!({}))
        }
        "resume" => {
            signer.resume();
            Ok(json!({}))
        }
        "restart" => signer.launch().map(|_| json!({"pid": signer.pid()})),
        "log" => Ok(json!({"log": signer.log_text()})),
        other => Err(format!("unknown command {other:?}")),
    })
}
