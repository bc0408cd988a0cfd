//! Routing on a Redis Cluster, done here on the redis crate's plain connections rather than by its
//! cluster client, which could not give two things the store needs:
//! - every wait ends within the request's deadline: the crate's client reconnects inside a
//!   command's retries (to every seed, then the slot map's nodes) with the timeouts it was built
//!   with, so a frozen master made one call last 1.7 s against a 1 s deadline;
//! - a write is answered only once a replica holds it (`WAIT`, on the same connection, in the same
//!   pipeline: no extra round trip), and the crate's client sends `WAIT` to every master.
//!
//! What is routed here is small: the slot map from `CLUSTER SLOTS`, the slot of a key (CRC16 of its
//! hash tag), and `MOVED` (map read again) and `ASK` (`ASKING` first) followed at most
//! [`REDIRECTS`] times. The connections, the protocol and the replies are the crate's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{out_of_time, Pooled, RedisConfig};
use crate::stores::Deadline;

/// The slots of a Redis Cluster.
const SLOTS: u16 = 16384;

/// How long a slot map is used before it is read again, even without an error or a redirect: a
/// replica that became available (Redis lists one in `CLUSTER SLOTS` only once it has replicated
/// something) is waited for from then on. One `CLUSTER SLOTS` a second per store.
const MAP_MAX_AGE: Duration = Duration::from_secs(1);

/// Redirects followed for one command (a slot moved, then asked while it migrates) before giving up.
const REDIRECTS: usize = 3;

/// A node's address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Node {
    host: String,
    port: u16,
}

/// The master of a range of slots, and how many healthy replicas `CLUSTER SLOTS` lists for it
/// (failed ones are left out by Redis).
struct Range {
    start: u16,
    end: u16,
    master: Node,
    replicas: usize,
}

/// Which master serves each slot.
struct SlotMap {
    ranges: Vec<Range>,
}

impl SlotMap {
    fn master(&self, slot: u16) -> Option<&Range> {
        self.ranges.iter().find(|r| r.start <= slot && slot <= r.end)
    }

    /// The replicas of `node` if it masters any slot (an `ASK` target is one).
    fn replicas_of(&self, node: &Node) -> usize {
        self.ranges.iter().filter(|r| &r.master == node).map(|r| r.replicas).max().unwrap_or(0)
    }

    /// `CLUSTER SLOTS`' reply, asked of `asked`: `[[start, end, [host, port, ..], replica..], ..]`.
    /// An empty host means the node asked; `?` (an unknown endpoint) leaves its range unserved.
    fn parse(reply: &redis::Value, asked: &Node) -> Option<SlotMap> {
        let redis::Value::Array(entries) = reply else { return None };
        let node = |value: &redis::Value| -> Option<Option<Node>> {
            let redis::Value::Array(fields) = value else { return None };
            let host = match fields.first()? {
                redis::Value::BulkString(b) => String::from_utf8(b.clone()).ok()?,
                redis::Value::SimpleString(s) => s.clone(),
                _ => return None,
            };
            let redis::Value::Int(port) = fields.get(1)? else { return None };
            let port = u16::try_from(*port).ok()?;
            Some(match host.as_str() {
                "?" => None,
                "" => Some(Node { host: asked.host.clone(), port }),
                _ => Some(Node { host, port }),
            })
        };
        let mut ranges = Vec::with_capacity(entries.len());
        for entry in entries {
            let redis::Value::Array(fields) = entry else { return None };
            let bound = |i: usize| match fields.get(i) {
                Some(redis::Value::Int(n)) => u16::try_from(*n).ok().filter(|n| *n < SLOTS),
                _ => None,
            };
            let (start, end) = (bound(0)?, bound(1)?);
            let Some(master) = node(fields.get(2)?)? else { continue };
            let replicas = fields[3..].iter().map(node).collect::<Option<Vec<_>>>()?.into_iter().flatten().count();
            ranges.push(Range { start, end, master, replicas });
        }
        Some(SlotMap { ranges })
    }
}

/// The slot of `key`: CRC16 (XMODEM) of its hash tag (the text between its first `{` and the next
/// `}`, when not empty), else of the whole key, modulo 16384.
fn slot(key: &str) -> u16 {
    let tagged = key.find('{').and_then(|open| {
        let rest = &key[open + 1..];
        rest.find('}').filter(|close| *close > 0).map(|close| &rest[..close])
    });
    crc16::State::<crc16::XMODEM>::calculate(tagged.unwrap_or(key).as_bytes()) % SLOTS
}

/// What one call gets back: a reply per command, in order, and whether every master that took a
/// write had a replica acknowledge it (`WAIT`) before answering.
pub(super) struct Outcome {
    pub values: Vec<redis::Value>,
    pub replicated: bool,
}

/// One call's commands bound for one node, as one pipeline.
struct Batch {
    node: Node,
    /// (index of the command, sent after ASKING)
    commands: Vec<(usize, bool)>,
    wait: bool,
    connection: Option<Pooled>,
}

/// Routes commands to the masters of their keys' slots.
pub(super) struct Cluster {
    seeds: Vec<Node>,
    /// How every node connection is made: the first seed's settings (credentials), any address.
    info: redis::ConnectionInfo,
    /// What a new connection does first (AUTH, when the seeds carry credentials).
    setup: redis::RedisConnectionInfo,
    /// Read on first use, after any error or redirect, and once [`MAP_MAX_AGE`] old.
    map: Mutex<Option<(Instant, Arc<SlotMap>)>>,
    /// The nodes the last map named: asked, with the seeds, for the next one.
    known: Mutex<Vec<Node>>,
    /// The node asked first for the next map: one further each time, so a node that accepts and
    /// never answers (frozen, black-holed) cannot cost every refresh its deadline.
    next: AtomicUsize,
    idle: Mutex<HashMap<Node, Vec<Pooled>>>,
}

impl Cluster {
    /// `seeds`: checked by the store (TCP addresses, database 0, the same credentials each).
    pub(super) fn new(seeds: &[redis::ConnectionInfo]) -> Cluster {
        let nodes = seeds
            .iter()
            .filter_map(|info| match info.addr() {
                redis::ConnectionAddr::Tcp(host, port) => Some(Node { host: host.clone(), port: *port }),
                _ => None,
            })
            .collect::<Vec<_>>();
        let setup = seeds[0].redis_settings().clone();
        // opened bare and set up by the store, one bounded command at a time (see `super::open`)
        let bare = redis::RedisConnectionInfo::default().set_skip_set_lib_name().set_protocol(setup.protocol());
        Cluster {
            known: Mutex::new(nodes.clone()),
            seeds: nodes,
            info: seeds[0].clone().set_redis_settings(bare),
            setup,
            map: Mutex::new(None),
            next: AtomicUsize::new(0),
            idle: Mutex::new(HashMap::new()),
        }
    }

    fn forget_map(&self) {
        *self.map.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// A pooled connection to `node`, or a new one.
    fn checkout(&self, node: &Node, config: &RedisConfig, deadline: Deadline) -> redis::RedisResult<Pooled> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.get_mut(node).and_then(Vec::pop));
        match pooled {
            Some(mut pooled) => {
                pooled.bound(config.command_timeout, deadline)?;
                Ok(pooled)
            }
            None => {
                let address = redis::ConnectionAddr::Tcp(node.host.clone(), node.port);
                let client = redis::Client::open(self.info.clone().set_addr(address))?;
                super::open(&client, &self.setup, config, deadline)
            }
        }
    }

    fn checkin(&self, node: Node, pooled: Pooled, config: &RedisConfig) {
        if let Ok(mut idle) = self.idle.lock() {
            let kept = idle.entry(node).or_default();
            if kept.len() < config.max_idle {
                kept.push(pooled);
            }
        }
    }

    /// After a failure on `node`: its idle connections are stale too, and so may the map be.
    fn failed(&self, node: &Node) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.remove(node);
        }
        self.forget_map();
    }

    /// The slot map: the one held, or a new one asked of the nodes the last map named (in turn,
    /// one further each time), then of the seeds, each given at most half of what is left, so that
    /// one that never answers leaves time for the next. A map only old (not dropped after an error)
    /// stays in use if no node answers: the request may still be served.
    fn map(&self, config: &RedisConfig, deadline: Deadline) -> redis::RedisResult<Arc<SlotMap>> {
        let held = self.map.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((read, map)) = &held {
            if read.elapsed() < MAP_MAX_AGE {
                return Ok(map.clone());
            }
        }
        let mut candidates = self.known.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        if !candidates.is_empty() {
            let turn = first % candidates.len();
            candidates.rotate_left(turn);
        }
        for seed in &self.seeds {
            if !candidates.contains(seed) {
                candidates.push(seed.clone());
            }
        }
        for node in &candidates {
            let left = deadline.left(Duration::MAX).ok_or_else(out_of_time)?;
            let share = Deadline::after((left / 2).max(Duration::from_millis(1)));
            let Ok(map) = self.ask_map(node, config, share) else {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.remove(node);
                }
                continue;
            };
            let map = Arc::new(map);
            let mut known: Vec<Node> = map.ranges.iter().map(|r| r.master.clone()).collect();
            known.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
            known.dedup();
            *self.known.lock().unwrap_or_else(|p| p.into_inner()) = known;
            *self.map.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), map.clone()));
            return Ok(map);
        }
        held.map(|(_, map)| map).ok_or_else(out_of_time)
    }

    fn ask_map(&self, node: &Node, config: &RedisConfig, deadline: Deadline) -> redis::RedisResult<SlotMap> {
        let mut pooled = self.checkout(node, config, deadline)?;
        let reply = pooled.query(redis::cmd("CLUSTER").arg("SLOTS"))?;
        let map = SlotMap::parse(&reply, node).ok_or_else(super::no_answer)?;
        self.checkin(node.clone(), pooled, config);
        Ok(map)
    }

    /// Run `commands` on the masters of their keys' slots (`keys[i]` names the slot of
    /// `commands[i]`): one pipeline per master, sent to all before any reply is read, each reply
    /// waited for at most what is left of `deadline`. With `write`, each pipeline to a master that
    /// has a replica ends with `WAIT 1`, so `replicated` tells whether every write is on a replica
    /// (a failover then keeps it). Any I/O failure is an error (that node's connections dropped,
    /// the map read again next time); `MOVED` and `ASK` are followed.
    pub(super) fn exec(
        &self,
        keys: &[&str],
        commands: &[redis::Cmd],
        write: bool,
        config: &RedisConfig,
        deadline: Deadline,
    ) -> redis::RedisResult<Outcome> {
        let mut values: Vec<Option<redis::Value>> = vec![None; commands.len()];
        let mut pending: Vec<(usize, Option<Node>)> = (0..commands.len()).map(|i| (i, None)).collect();
        let mut replicated = true;
        for _ in 0..=REDIRECTS {
            if pending.is_empty() {
                break;
            }
            let map = self.map(config, deadline)?;
            let mut batches: Vec<Batch> = Vec::new();
            for (index, asked) in pending.drain(..) {
                let asking = asked.is_some();
                let (node, replicas) = match asked {
                    Some(node) => {
                        let replicas = map.replicas_of(&node);
                        (node, replicas)
                    }
                    None => {
                        let range = map.master(slot(keys[index])).ok_or_else(super::no_answer)?;
                        (range.master.clone(), range.replicas)
                    }
                };
                let sent = (index, asking);
                let wait = write && replicas > 0;
                match batches.iter_mut().find(|b| b.node == node) {
                    Some(batch) => {
                        batch.commands.push(sent);
                        batch.wait |= wait;
                    }
                    None => batches.push(Batch { node, commands: vec![sent], wait, connection: None }),
                }
            }
            // every pipeline sent before any reply is read: the masters work at once, one round trip
            for batch in &mut batches {
                let mut pooled =
                    self.checkout(&batch.node, config, deadline).inspect_err(|_| self.failed(&batch.node))?;
                let mut packed = Vec::new();
                for (index, asking) in &batch.commands {
                    if *asking {
                        redis::cmd("ASKING").write_packed_command(&mut packed);
                    }
                    commands[*index].write_packed_command(&mut packed);
                }
                if batch.wait {
                    // half of what is left: the reply, and an undo if no replica took the writes,
                    // still fit in the deadline
                    let left = deadline.left(config.command_timeout).ok_or_else(out_of_time)?;
                    let millis = (left / 2).as_millis().max(1) as u64;
                    redis::cmd("WAIT").arg(1).arg(millis).write_packed_command(&mut packed);
                }
                pooled.connection.send_packed_command(&packed).inspect_err(|_| self.failed(&batch.node))?;
                batch.connection = Some(pooled);
            }
            for batch in batches {
                let Batch { node, commands: sent, wait, connection } = batch;
                let Some(mut pooled) = connection else { return Err(super::no_answer()) };
                match self.read(&mut pooled, &sent, wait, config, deadline, &mut values, &mut pending) {
                    Ok(acknowledged) => {
                        if !acknowledged {
                            // a replica down: a new map leaves it out once the cluster marks it failed
                            replicated = false;
                            self.forget_map();
                        }
                        self.checkin(node, pooled, config);
                    }
                    Err(error) => {
                        self.failed(&node);
                        return Err(error);
                    }
                }
            }
        }
        if !pending.is_empty() {
            return Err(super::no_answer());
        }
        let values = values.into_iter().collect::<Option<Vec<_>>>().ok_or_else(super::no_answer)?;
        Ok(Outcome { values, replicated })
    }

    /// The replies of one pipeline: each command's into `values`, or its redirect into `pending`;
    /// then `WAIT`'s, if sent: whether a replica acknowledged.
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        pooled: &mut Pooled,
        sent: &[(usize, bool)],
        wait: bool,
        config: &RedisConfig,
        deadline: Deadline,
        values: &mut [Option<redis::Value>],
        pending: &mut Vec<(usize, Option<Node>)>,
    ) -> redis::RedisResult<bool> {
        use redis::ServerErrorKind::{Ask, Moved};
        for (index, asking) in sent {
            if *asking && !matches!(pooled.recv(config.command_timeout, deadline)?, redis::Value::Okay) {
                return Err(super::no_answer());
            }
            match pooled.recv(config.command_timeout, deadline)? {
                redis::Value::ServerError(e) if e.kind() == Some(Moved) => {
                    self.forget_map();
                    pending.push((*index, None));
                }
                redis::Value::ServerError(e) if e.kind() == Some(Ask) => {
                    let target = e.details().and_then(redirect_target).ok_or_else(super::no_answer)?;
                    pending.push((*index, Some(target)));
                }
                value => values[*index] = Some(value),
            }
        }
        if !wait {
            return Ok(true);
        }
        match pooled.recv(config.command_timeout, deadline)? {
            redis::Value::Int(acknowledged) => Ok(acknowledged >= 1),
            _ => Err(super::no_answer()),
        }
    }
}

/// The node of a redirect's details, `<slot> <host>:<port>`.
fn redirect_target(details: &str) -> Option<Node> {
    let (_, address) = details.split_once(' ')?;
    let (host, port) = address.rsplit_once(':')?;
    Some(Node { host: host.to_owned(), port: port.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_redis_own() {
        // CLUSTER KEYSLOT's answers on Redis 7
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
        assert_eq!(slot("foo{}{bar}"), slot("foo{}{bar}"));
        assert_eq!(slot("{}bar"), crc16::State::<crc16::XMODEM>::calculate(b"{}bar") % SLOTS);
        assert_eq!(slot("p:{s07}replay:ab"), slot("s07"));
    }

    #[test]
    fn redirects_name_their_node() {
        assert_eq!(redirect_target("3999 127.0.0.1:6381"), Some(Node { host: "127.0.0.1".into(), port: 6381 }));
        assert_eq!(redirect_target("3999 ::1:6381"), Some(Node { host: "::1".into(), port: 6381 }));
        assert_eq!(redirect_target("3999"), None);
        assert_eq!(redirect_target("3999 host:port"), None);
    }
}
