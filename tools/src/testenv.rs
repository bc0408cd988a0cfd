//! The test environment every language's tests share: a real `redis-server` and a real
//! `trustcore signer serve`, each on a free loopback port or a private socket, started ready and
//! stopped after. Rust tests use these types; the other languages run the `testenv` binary, which
//! drives the same types over a line protocol (tools/src/bin/testenv.rs).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start listening or to stop: a bound, never a measurement.
pub const STARTUP: Duration = Duration::from_secs(15);

/// A port no one listens on now (another process may take it before we do: callers retry).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// Die with the process that started it (SIGKILL when it exits, even killed): a test that crashes
/// leaves no server behind. (Linux ties this to the starting thread: start and restart a server
/// from a thread that outlives it.)
fn die_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: prctl(2) only, between fork and exec: async-signal-safe
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

/// Send `signal` to a running child (SIGSTOP pauses it, SIGCONT resumes it).
fn signal(child: &Option<Child>, signal: i32) {
    if let Some(child) = child {
        // SAFETY: kill(2) on our own child's pid; it has not been reaped while `child` is held
        unsafe { libc::kill(child.id() as i32, signal) };
    }
}

/// SIGKILL a running child (a paused one too) and reap it.
fn kill(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// One redis-server bound to 127.0.0.1, in memory only (a restart forgets everything); with a Unix
/// socket too when asked (in a private directory, removed with the server).
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    /// The Unix socket it also listens on, if any.
    pub socket: Option<PathBuf>,
}

impl RedisServer {
    /// Start on a free port (another one if a racing process took it first).
    pub fn start() -> Result<RedisServer, String> {
        RedisServer::start_with(false)
    }

    /// [`RedisServer::start`], also listening on a Unix socket when `unix` is set.
    pub fn start_with(unix: bool) -> Result<RedisServer, String> {
        let socket = if unix {
            let dir = std::env::temp_dir().join(format!("tc-testenv-redis-{}-{}", std::process::id(), unique()));
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            Some(dir.join("redis.sock"))
        } else {
            None
        };
        let mut last = String::new();
        for _ in 0..5 {
            let mut server = RedisServer { child: None, port: free_port(), socket: socket.clone() };
            match server.restart() {
                Ok(()) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(format!("redis-server did not start on a free loopback port (5 tries): {last}"))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// `redis+unix://<socket>`, when it listens on one.
    pub fn unix_url(&self) -> Option<String> {
        self.socket.as_ref().map(|path| format!("redis+unix://{}", path.display()))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Start (again) on the same port, empty.
    pub fn restart(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("redis-server is already running".into());
        }
        let mut command = Command::new("redis-server");
        if let Some(socket) = &self.socket {
            command.arg("--unixsocket").arg(socket).args(["--unixsocketperm", "700"]);
        }
        let mut child = die_with_parent(&mut command)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("redis-server: {e} (Debian's package redis-server; `make setup-redis` installs it)")
            })?;
        let deadline = Instant::now() + STARTUP;
        while !answers_ping(self.port) {
            if matches!(child.try_wait(), Ok(Some(_))) || Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("redis-server did not start on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL (no goodbye to the clients), and wait until it is gone.
    pub fn kill(&mut self) {
        kill(&mut self.child)
    }

    /// SIGSTOP: connections are still accepted by the kernel, nothing answers.
    pub fn pause(&self) {
        signal(&self.child, libc::SIGSTOP)
    }

    pub fn resume(&self) {
        signal(&self.child, libc::SIGCONT)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = self.socket.as_ref().and_then(|s| s.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Send one inline command to a loopback Redis and read what it answers within 500 ms (enough for
/// the short replies the cluster set-up reads: ROLE, CLUSTER INFO).
fn inline(port: u16, command: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut reply = vec![0u8; 4096];
    let n = stream.read(&mut reply).ok()?;
    Some(String::from_utf8_lossy(&reply[..n]).into_owned())
}

/// The replicas `CLUSTER SLOTS` lists for each of its slot ranges, read from its raw reply: each
/// range is an array of its two bounds, its master and its replicas (the only arrays whose first
/// element is an integer).
fn listed_replicas(port: u16) -> Option<Vec<usize>> {
    let reply = inline(port, "CLUSTER SLOTS")?;
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let ranges = lines
        .windows(2)
        .filter(|pair| pair[0].starts_with('*') && pair[1].starts_with(':'))
        .map(|pair| pair[0][1..].parse::<usize>().ok().map(|n| n.saturating_sub(3)))
        .collect::<Option<Vec<_>>>()?;
    Some(ranges)
}

/// A Redis Cluster of redis-server processes on loopback ports: `masters` masters with one replica
/// each, in memory only, cluster-node-timeout 1 s (a killed master's replica takes over within a
/// few seconds). Its files (nodes.conf of each node) live in a private directory, removed with it.
pub struct RedisCluster {
    nodes: Vec<Option<Child>>,
    /// Each node's client port (its bus port is another free port).
    pub ports: Vec<u16>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Start `2 × masters` nodes, join them (`redis-cli --cluster create … --cluster-replicas 1`),
    /// and wait until every node says the cluster is ok.
    pub fn start(masters: usize) -> Result<RedisCluster, String> {
        let dir = std::env::temp_dir().join(format!("tc-testenv-cluster-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut cluster = RedisCluster { nodes: Vec::new(), ports: Vec::new(), dir };
        for _ in 0..masters * 2 {
            let (port, child) = cluster.start_node()?;
            cluster.ports.push(port);
            cluster.nodes.push(Some(child));
        }
        let addresses: Vec<String> = cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("redis-cli: {e}"))?;
        if !out.status.success() {
            return Err(format!("redis-cli --cluster create: {}", String::from_utf8_lossy(&out.stdout)));
        }
        cluster.wait_ok(&cluster.ports.clone())?;
        // a replica that never synced cannot take over: wait until each one has its master's data
        let deadline = Instant::now() + STARTUP;
        let synced = |port: u16| {
            inline(port, "INFO replication")
                .is_some_and(|info| info.contains("role:master") || info.contains("master_link_status:up"))
        };
        while !cluster.ports.iter().all(|p| synced(*p)) {
            if Instant::now() > deadline {
                return Err("the replicas did not sync with their masters".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // and until every node lists each master's replica in CLUSTER SLOTS (what a client reads
        // to know whether a write has a replica to wait for)
        while !cluster
            .ports
            .iter()
            .all(|p| listed_replicas(*p).is_some_and(|r| r.len() == masters && r.iter().all(|n| *n == 1)))
        {
            if Instant::now() > deadline {
                return Err("the nodes did not list every master's replica in CLUSTER SLOTS".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    /// One node on a free port (and a free bus port), started and answering PING.
    fn start_node(&self) -> Result<(u16, Child), String> {
        let mut last = String::new();
        for _ in 0..5 {
            let (port, bus) = (free_port(), free_port());
            let mut command = Command::new("redis-server");
            let mut child = die_with_parent(&mut command)
                .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--cluster-port", &bus.to_string()])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
                // the first sync of a replica at once (the default waits 5 s for more replicas)
                .args(["--repl-diskless-sync-delay", "0"])
                // a replica's offset moves within a second even with nothing written: Redis lists a
                // replica in CLUSTER SLOTS only once its offset is not zero
                .args(["--repl-ping-replica-period", "1"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .arg("--dir")
                .arg(&self.dir)
                .args(["--save", "", "--appendonly", "no"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("redis-server: {e}"))?;
            let deadline = Instant::now() + STARTUP;
            loop {
                if answers_ping(port) {
                    return Ok((port, child));
                }
                if matches!(child.try_wait(), Ok(Some(_))) || Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = format!("redis-server did not start on port {port}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Err(last)
    }

    /// Wait until each of `ports` says `cluster_state:ok` (within [`STARTUP`]).
    fn wait_ok(&self, ports: &[u16]) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        let ok = |port: u16| inline(port, "CLUSTER INFO").is_some_and(|info| info.contains("cluster_state:ok"));
        while !ports.iter().all(|p| ok(*p)) {
            if Instant::now() > deadline {
                return Err("the cluster did not reach cluster_state:ok".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The private directory of the nodes' files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `redis://127.0.0.1:<port>` of every node: the seed nodes to give a client.
    pub fn urls(&self) -> Vec<String> {
        self.ports.iter().map(|p| format!("redis://127.0.0.1:{p}")).collect()
    }

    /// The ports of the nodes that are masters now.
    pub fn masters(&self) -> Vec<u16> {
        self.running().into_iter().filter(|p| inline(*p, "ROLE").is_some_and(|r| r.contains("master"))).collect()
    }

    /// The port of the replica of the master on `port`, if it has one running.
    pub fn replica_of(&self, port: u16) -> Option<u16> {
        let follows =
            |p: &u16| inline(*p, "INFO replication").is_some_and(|i| i.contains(&format!("master_port:{port}\r")));
        self.running().into_iter().find(follows)
    }

    fn running(&self) -> Vec<u16> {
        self.ports.iter().zip(&self.nodes).filter(|(_, n)| n.is_some()).map(|(p, _)| *p).collect()
    }

    /// SIGKILL the node on `port` (a master: its replica is promoted once the others see it gone).
    pub fn kill(&mut self, port: u16) {
        if let Some(i) = self.ports.iter().position(|p| *p == port) {
            kill(&mut self.nodes[i]);
        }
    }

    /// SIGSTOP the node on `port`: the kernel still accepts its connections, nothing answers (a
    /// frozen master: the others promote its replica once it has been silent for the node timeout).
    pub fn pause(&self, port: u16) {
        if let Some(i) = self.ports.iter().position(|p| *p == port) {
            signal(&self.nodes[i], libc::SIGSTOP)
        }
    }

    /// SIGCONT the node on `port` (a paused master comes back as a replica of its successor).
    pub fn resume(&self, port: u16) {
        if let Some(i) = self.ports.iter().position(|p| *p == port) {
            signal(&self.nodes[i], libc::SIGCONT)
        }
    }

    /// Wait until the nodes still running say the cluster is ok again (after a failover).
    pub fn wait_healthy(&self) -> Result<(), String> {
        self.wait_ok(&self.running())
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            kill(node);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a signer listens.
pub enum Listen {
    Socket(PathBuf),
    Tcp(u16),
}

/// One `trustcore signer serve` with its key file (0600) in a private temp dir.
pub struct Signer {
    child: Option<Child>,
    pub dir: PathBuf,
    pub listen: Listen,
    pub log: PathBuf,
    binary: PathBuf,
    args: Vec<String>,
}

impl Signer {
    /// Write the seed, start the signer (`binary`, with `args` after the key and the address), and
    /// wait until it accepts connections.
    pub fn start(binary: &Path, seed_hex: &str, tcp: bool, args: &[String]) -> Result<Signer, String> {
        let dir = std::env::temp_dir().join(format!("tc-testenv-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_key(&dir, seed_hex)?;
        let listen = if tcp { Listen::Tcp(free_port()) } else { Listen::Socket(dir.join("signer.sock")) };
        let mut signer =
            Signer { child: None, log: dir.join("signer.log"), dir, listen, binary: binary.into(), args: args.into() };
        // a free port may be taken before the signer binds it: another one, up to five times
        let mut tries = if tcp { 5 } else { 1 };
        loop {
            match signer.launch() {
                Ok(()) => return Ok(signer),
                Err(e) if tries == 1 => return Err(e),
                Err(_) => {
                    tries -= 1;
                    signer.listen = Listen::Tcp(free_port());
                }
            }
        }
    }

    /// `unix:<path>` or `tcp:127.0.0.1:<port>`, as SignerClient takes it.
    pub fn address(&self) -> String {
        match &self.listen {
            Listen::Socket(path) => format!("unix:{}", path.display()),
            Listen::Tcp(port) => format!("tcp:127.0.0.1:{port}"),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn accepts(&self) -> bool {
        match &self.listen {
            Listen::Socket(path) => UnixStream::connect(path).is_ok(),
            Listen::Tcp(port) => TcpStream::connect(("127.0.0.1", *port)).is_ok(),
        }
    }

    /// Start (again): its log is appended to, so a restarted signer logs after the first.
    pub fn launch(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("the signer is already running".into());
        }
        let key = self.dir.join(KEY_FILE);
        let mut command = Command::new(&self.binary);
        die_with_parent(&mut command);
        command.args(["signer", "serve", "--key-file"]).arg(&key);
        match &self.listen {
            Listen::Socket(path) => command.arg("--socket").arg(path),
            Listen::Tcp(port) => command.args(["--tcp", &format!("127.0.0.1:{port}"), "--tcp-without-peer-check"]),
        };
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(|e| e.to_string())?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("{}: {e} (make signer-bin builds it)", self.binary.display()))?;
        let deadline = Instant::now() + STARTUP;
        while !self.accepts() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the signer exited with {status}:\n{}", self.log_text()));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the signer did not start listening:\n{}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
        Ok(())
    }

    /// Start again, on the same socket or port, with `args` in place of the ones it had (for this
    /// and every later launch) and, given `seed_hex`, another issuer key in its key file: a successor
    /// after a key rotation (`--key-id` in `args`). Both stay, whether it starts or not (a later
    /// [`Signer::launch`] uses them). Refused, changing nothing, while it runs.
    pub fn relaunch(&mut self, seed_hex: Option<&str>, args: &[String]) -> Result<(), String> {
        if self.child.is_some() {
            return Err("the signer is already running".into());
        }
        if let Some(seed_hex) = seed_hex {
            write_key(&self.dir, seed_hex)?;
        }
        self.args = args.into();
        self.launch()
    }

    /// The arguments it is started with after its key and address.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as an operator stops it; its exit status, and whether its socket is gone.
    pub fn stop(&mut self) -> Result<(ExitStatus, bool), String> {
        signal(&self.child, libc::SIGTERM);
        let Some(mut child) = self.child.take() else { return Err("the signer is not running".into()) };
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let socket_gone = match &self.listen {
                    Listen::Socket(path) => !path.exists(),
                    Listen::Tcp(_) => true,
                };
                return Ok((status, socket_gone));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the signer did not stop on SIGTERM:\n{}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL (kill -9): no draining, the socket file stays behind.
    pub fn kill(&mut self) {
        kill(&mut self.child)
    }

    pub fn pause(&self) {
        signal(&self.child, libc::SIGSTOP)
    }

    pub fn resume(&self) {
        signal(&self.child, libc::SIGCONT)
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The signer's key file, in its private directory.
const KEY_FILE: &str = "issuer.key";

/// Write `seed_hex` to `dir`'s key file, 0600 from its creation: a new file renamed over the old one,
/// so the signer never reads half a key, nor a key file anyone else could read.
fn write_key(dir: &Path, seed_hex: &str) -> Result<(), String> {
    let (key, new) = (dir.join(KEY_FILE), dir.join(format!("{KEY_FILE}.new")));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&new)
        .and_then(|mut f| f.write_all(seed_hex.as_bytes()))
        .and_then(|_| std::fs::rename(&new, &key))
        .map_err(|e| {
            let _ = std::fs::remove_file(&new);
            format!("{}: {e}", key.display())
        })
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
