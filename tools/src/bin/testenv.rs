//! `testenv`: a redis-server or a signer for another language's tests, as a child process they
//! drive over stdin and stdout, one line each way (tools/src/testenv.rs does the work).
//!
//!   testenv redis [--unix]
//!   testenv redis-cluster
//!   testenv signer --seed-hex HEX [--tcp] [--bin PATH] [-- SIGNER ARGS...]
//!
//! Once ready it prints one JSON line: redis `{"url", "port", "pid", "unix_url", "socket"}` (the last
//! two null without `--unix`), redis-cluster `{"urls", "ports"}` (3 masters and 3 replicas: every
//! node's `redis://127.0.0.1:<port>`, to give a client as seed nodes; it answers `masters` and
//! `kill` with `{"port": P}`), signer `{"address", "socket"
//! (or null), "port" (or null), "dir", "log", "pid"}`. Then it reads commands, one per line, and
//! answers each with one JSON line (`{"ok": true, …}` or `{"ok": false, "error": "…"}`):
//! `kill` (SIGKILL), `pause` (SIGSTOP), `resume` (SIGCONT), `restart` (again, same port or socket),
//! and for the signer `stop` (SIGTERM; answers `status` and `socket_gone`) and `log`. A command is a
//! word, or a JSON object naming it in `cmd` with its options: the signer's `restart` takes `args`
//! (the SIGNER ARGS from then on, in place of the first ones) and `seed_hex` (another issuer key in
//! its key file: a successor after a key rotation), e.g.
//! `{"cmd": "restart", "seed_hex": "…", "args": ["--key-id", "4"]}`; `restart` and `{"cmd": "restart"}`
//! start it with what it had. When its stdin closes (the test ended, or died) it kills what it
//! started and removes its files.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde_json::{json, Map, Value};
use trustcore_tools::testenv::{Listen, RedisCluster, RedisServer, Signer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result =
        match args.first().map(String::as_str) {
            Some("redis") if args.len() == 1 => redis(false),
            Some("redis") if args.len() == 2 && args[1] == "--unix" => redis(true),
            Some("redis-cluster") if args.len() == 1 => redis_cluster(),
            Some("signer") => signer(&args[1..]),
            _ => Err("usage: testenv redis [--unix] | testenv redis-cluster | testenv signer --seed-hex HEX [--tcp] [--bin PATH] [-- ARGS...]"
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

/// One command line: its name, and its options when it was a JSON object.
struct Command {
    name: String,
    options: Map<String, Value>,
}

impl Command {
    /// `kill`, or `{"cmd": "kill", …options}`, refused when it has an option `takes` does not give
    /// its command.
    fn parse(line: &str, takes: &[(&str, &[&str])]) -> Result<Command, String> {
        if !line.starts_with('{') {
            return Ok(Command { name: line.into(), options: Map::new() });
        }
        let Ok(Value::Object(mut options)) = serde_json::from_str(line) else {
            return Err(format!("not a JSON object: {line:?}"));
        };
        let Some(Value::String(name)) = options.remove("cmd") else {
            return Err(format!("no \"cmd\" string in {line:?}"));
        };
        let known = takes.iter().find(|(command, _)| *command == name).map_or(&[][..], |(_, known)| *known);
        match options.keys().find(|key| !known.contains(&key.as_str())) {
            Some(key) => Err(format!("{name} takes no option {key:?}")),
            None => Ok(Command { name, options }),
        }
    }
}

/// Print `value`, then answer each command line with `handle`'s answer until stdin closes; `takes`
/// names the commands that take options, and which.
fn serve(
    ready: Value,
    takes: &[(&str, &[&str])],
    mut handle: impl FnMut(&Command) -> Result<Value, String>,
) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}").and_then(|_| out.flush()).map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match Command::parse(line.trim(), takes).and_then(|command| handle(&command)) {
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
    serve(ready, &[], |command| match command.name.as_str() {
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

fn redis_cluster() -> Result<(), String> {
    let mut cluster = RedisCluster::start(3)?;
    clean_up_on_signals(Some(cluster.dir().to_path_buf()))?;
    let ready = json!({"urls": cluster.urls(), "ports": cluster.ports});
    serve(ready, &[("kill", &["port"])], |command| match command.name.as_str() {
        "masters" => Ok(json!({"masters": cluster.masters()})),
        "kill" => {
            let port = command.options.get("port").and_then(Value::as_u64).ok_or("kill: a \"port\" number")?;
            cluster.kill(u16::try_from(port).map_err(|_| "kill: a port")?);
            Ok(json!({}))
        }
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
    serve(ready, &[("restart", &["args", "seed_hex"])], |command| match command.name.as_str() {
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
        "restart" => {
            let seed_hex = match command.options.get("seed_hex") {
                None => None,
                Some(Value::String(seed_hex)) => Some(seed_hex.as_str()),
                Some(_) => return Err("restart: seed_hex is a string".into()),
            };
            let args = match command.options.get("args") {
                None => signer.args().to_vec(),
                Some(args) => serde_json::from_value(args.clone())
                    .map_err(|_| "restart: args is a list of strings".to_string())?,
            };
            signer.relaunch(seed_hex, &args).map(|_| json!({"pid": signer.pid()}))
        }
        "log" => Ok(json!({"log": signer.log_text()})),
        other => Err(format!("unknown command {other:?}")),
    })
}
