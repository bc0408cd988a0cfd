//! A real `trustcore signer serve`, started as a subprocess for one test and stopped after it.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use trustcore_core::*;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_trustcore")
}

/// A fresh private directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trustcore-signer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write an issuer key file with `mode`; returns the key.
pub fn key_file(path: &Path, mode: u32) -> IssuerKey {
    let key = IssuerKey::generate().unwrap();
    std::fs::write(path, format!("{}\n", key.secret_hex().as_str())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    key
}

pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub key: IssuerKey,
    pub stderr_path: PathBuf,
}

impl Daemon {
    /// Start on `dir/signer.sock` with a new key and `args`; wait until it accepts.
    pub fn start(dir: &Path, args: &[&str]) -> Daemon {
        let key_path = dir.join("issuer.key");
        let key = key_file(&key_path, 0o600);
        Daemon::start_with_key(dir, key, &key_path, args)
    }

    pub fn start_with_key(dir: &Path, key: IssuerKey, key_path: &Path, args: &[&str]) -> Daemon {
        let socket = dir.join("signer.sock");
        let stderr_path = dir.join("signer.log"); // appended to: a restarted daemon logs after the first
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(&stderr_path).unwrap();
        let child = Command::new(bin())
            .args(["signer", "serve", "--key-file", key_path.to_str().unwrap(), "--socket", socket.to_str().unwrap()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start the signer");
        let mut daemon = Daemon { child, socket, key, stderr_path };
        daemon.wait_listening();
        daemon
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&self.socket).is_err() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the signer exited with {status}: {}", self.log());
            }
            assert!(Instant::now() < deadline, "the signer did not start listening: {}", self.log());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn client(&self) -> SignerClient {
        self.client_with(SignerClientOptions::default())
    }

    pub fn client_with(&self, options: SignerClientOptions) -> SignerClient {
        SignerClient::new(SignerAddress::unix(&self.socket).unwrap(), options).unwrap()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// SIGSTOP, and wait until every thread of the daemon is stopped: kill(2) only queues the
    /// signal, and on a busy machine a thread can still answer a request after it returned.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
        let tasks = format!("/proc/{}/task", self.pid());
        let deadline = Instant::now() + Duration::from_secs(10);
        let all_stopped = || {
            std::fs::read_dir(&tasks).unwrap().flatten().all(|task| {
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                // the state follows the parenthesised command name
                stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
            })
        };
        while !all_stopped() {
            assert!(Instant::now() < deadline, "the signer did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, then wait (at most 20 s) for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait(Duration::from_secs(20))
    }

    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the signer did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log(&self) -> String {
        let mut text = String::new();
        let _ = std::fs::File::open(&self.stderr_path).and_then(|mut f| f.read_to_string(&mut text));
        text
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mint request for `holder`, expiring in `ttl` seconds.
pub fn mint_args(holder: &WorkerKey, facts: &[(&str, &[&str])], ttl: f64) -> MintRequest {
    MintRequest {
        public_hex: holder.public_hex(),
        holder_id: "gpu-1".into(),
        facts: facts.iter().map(|(p, v)| (p.to_string(), v.iter().map(|s| s.to_string()).collect())).collect(),
        revocation_id: None,
        root_key_id: None,
        expires_at: now_seconds() + ttl,
        delegation_depth: 0,
    }
}
