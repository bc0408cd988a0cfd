//! The signer's audit log: append-only JSON lines, one per answer, fsync'd before the answer leaves.
//!
//! Each entry carries the previous entry's hash, its own hash (sha256 of its JCS form without
//! `hash` and `sig`) and the issuer's signature over that hash, so editing, deleting, reordering or
//! cutting entries breaks the chain at the first changed one. No secret and no token is written:
//! a mint is recorded by the sha256 of the token it produced.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{IssuerKey, PublicKey};

/// What the issuer signs for an entry: a fixed prefix, then the entry hash, so an audit signature can
/// never be mistaken for a job's or a token block's.
const SIGNING_PREFIX: &[u8] = b"trustcore-audit-v1:";
/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One answer, as the audit log records it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord<'a> {
    /// The op, or `None` for a request that could not be read.
    pub op: Option<&'a str>,
    pub peer: Value,
    /// `ok`, or the error code's name.
    pub outcome: &'a str,
    pub holder_id: Option<&'a str>,
    pub revocation_id: Option<&'a str>,
    /// sha256 (hex) of what was signed: the minted token's text, or a job's signing bytes.
    pub signed_sha256: Option<&'a str>,
    pub key_id: Option<u32>,
}

/// The writing end, held by the signer.
pub struct AuditLog {
    file: File,
    path: PathBuf,
    key: IssuerKey,
    entries: u64,
    head: String,
    /// Bytes of whole entries: a failed write is cut back to this, so the chain stays readable.
    good_len: u64,
    /// Set when a failed write could not be undone: no further entry may follow a broken one.
    broken: bool,
    /// Bytes of an incomplete last entry cut off when the log was opened.
    torn_tail: u64,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("path", &self.path).field("entries", &self.entries).finish_non_exhaustive()
    }
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::SignerUnavailable, message)
}

fn entry_hash(entry: &Map<String, Value>) -> Result<String> {
    let mut unsigned = entry.clone();
    unsigned.remove("hash");
    unsigned.remove("sig");
    let bytes = serde_jcs::to_vec(&unsigned).map_err(|_| unavailable("audit entry cannot be encoded"))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// One line of the log, read once: a JSON object without duplicated keys whose JCS bytes are exactly
/// the line (so no reader can see in it anything but what was hashed and signed).
fn read_line(line: &[u8]) -> std::result::Result<Map<String, Value>, &'static str> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let entry = crate::json::parse_object(body, ErrorCode::SignerUnavailable)
        .map_err(|_| "is not a JSON object without duplicated keys (edited or truncated)")?;
    match serde_jcs::to_vec(&entry) {
        Ok(canonical) if canonical == body => Ok(entry),
        _ => Err("is not written in its canonical (JCS) form (it was edited)"),
    }
}

fn signing_message(hash_hex: &str) -> Vec<u8> {
    [SIGNING_PREFIX, hash_hex.as_bytes()].concat()
}

impl AuditLog {
    /// Open (or create, mode 0600) the log at `path` and continue its chain. A log whose last entry
    /// is incomplete, unreadable, or not signed by `key` is refused: the chain must not fork.
    pub fn open(path: &Path, key: &IssuerKey) -> Result<AuditLog> {
        let open_error = |e: std::io::Error| unavailable(format!("cannot open audit log {}: {e}", path.display()));
        let file =
            OpenOptions::new().create(true).append(true).read(true).mode(0o600).open(path).map_err(open_error)?;
        // a device or a pipe would never end (or never keep) the chain
        if !file.metadata().map_err(open_error)?.is_file() {
            return Err(unavailable(format!("audit log {} is not a regular file", path.display())));
        }
        let mut reader = BufReader::new(file.try_clone().map_err(open_error)?);
        let (mut entries, mut head, mut good_len, mut torn_tail) = (0u64, GENESIS.to_owned(), 0u64, 0u64);
        let mut line = Vec::new();
        let mut last: Option<Map<String, Value>> = None;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(open_error)?;
            if n == 0 {
                break;
            }
            let broken = || {
                unavailable(format!(
                    "audit log {} has a broken entry at line {}: check it with `trustcore audit verify`",
                    path.display(),
                    entries + 1
                ))
            };
            if line.last() != Some(&b'\n') {
                // the last line ends mid-entry: a write cut short (SIGKILL between two pages of
                // the page cache, a power cut). Its answer was never sent (an answer leaves only
                // after its whole entry is written and synced), so it is cut off, not continued
                let file = reader.get_ref();
                file.set_len(good_len).and_then(|_| file.sync_data()).map_err(open_error)?;
                torn_tail = n as u64;
                break;
            }
            match read_line(&line) {
                Ok(entry) => last = Some(entry),
                Err(_) => return Err(broken()),
            }
            entries += 1;
            good_len += n as u64;
        }
        if let Some(entry) = last {
            let public = key.public_key();
            let summary = check_entry(&entry, entries, None, &public)
                .map_err(|reason| unavailable(format!("audit log {}: last entry {reason}", path.display())))?;
            head = summary;
        }
        Ok(AuditLog {
            file,
            path: path.to_owned(),
            key: key.clone(),
            entries,
            head,
            good_len,
            broken: false,
            torn_tail,
        })
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Bytes of an incomplete last entry found and cut off when the log was opened (0: none).
    pub fn torn_tail(&self) -> u64 {
        self.torn_tail
    }

    /// The hash of the last entry (GENESIS when empty): a monitor that records it can later prove
    /// that no entry up to it was cut off (`trustcore audit verify --expect-head`).
    pub fn head(&self) -> &str {
        &self.head
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry and fsync it. On failure nothing is half-written (the file is cut back to
    /// its last whole entry) and the caller must not hand out what it signed.
    pub fn append(&mut self, record: &AuditRecord<'_>, time_ms: u64) -> Result<()> {
        if self.broken {
            return Err(unavailable("audit log failed earlier and could not be repaired; restart the signer"));
        }
        let seq = self.entries + 1;
        let mut entry = Map::new();
        entry.insert("v".into(), 1.into());
        entry.insert("seq".into(), seq.into());
        entry.insert("time_ms".into(), time_ms.into());
        entry.insert("op".into(), record.op.into());
        entry.insert("peer".into(), record.peer.clone());
        entry.insert("outcome".into(), record.outcome.into());
        entry.insert("holder_id".into(), record.holder_id.into());
        entry.insert("revocation_id".into(), record.revocation_id.into());
        entry.insert("signed_sha256".into(), record.signed_sha256.into());
        entry.insert("key_id".into(), record.key_id.into());
        entry.insert("prev".into(), self.head.clone().into());
        let hash = entry_hash(&entry)?;
        entry.insert("hash".into(), hash.clone().into());
        entry.insert("sig".into(), hex::encode(self.key.sign(&signing_message(&hash))).into());
        let mut line = serde_jcs::to_vec(&entry).map_err(|_| unavailable("audit entry cannot be encoded"))?;
        line.push(b'\n');
        let written = self.file.write_all(&line).and_then(|_| self.file.sync_data());
        if let Err(e) = written {
            // cut back a partial entry; a file that refused the write whole (read-only, immutable)
            // also refuses the cut, but holds nothing partial: it is still whole, and answers resume
            // once it is writable again
            let cut = self.file.set_len(self.good_len).and_then(|_| self.file.sync_data());
            let whole = self.file.metadata().is_ok_and(|m| m.len() == self.good_len);
            if cut.is_err() && !whole {
                self.broken = true;
            }
            return Err(unavailable(format!(
                "audit log cannot be written ({}); refusing to answer unaudited",
                e.kind()
            )));
        }
        self.entries = seq;
        self.head = hash;
        self.good_len += line.len() as u64;
        Ok(())
    }
}

/// A whole, unbroken log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSummary {
    pub entries: u64,
    /// The last entry's hash (GENESIS when empty).
    pub head: String,
    /// Bytes after the last whole entry that end mid-entry: a write cut short by a crash, whose
    /// answer was never sent (a restarted signer cuts them off). 0 when the log ends whole.
    pub torn_tail: u64,
}

/// The first place the chain breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditBreak {
    /// 1-based line number (= the entry's expected sequence number).
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}: {}", self.line, self.reason)
    }
}

/// Check entry number `seq` against the hash before it (`None`: not known, only its own hash and
/// signature are checked). Returns its hash.
fn check_entry(
    entry: &Map<String, Value>,
    seq: u64,
    prev: Option<&str>,
    issuer: &PublicKey,
) -> std::result::Result<String, String> {
    if entry.get("v").and_then(Value::as_u64) != Some(1) {
        return Err("is not a version 1 entry".into());
    }
    match entry.get("seq").and_then(Value::as_u64) {
        Some(s) if s == seq => {}
        Some(s) => {
            return Err(format!(
                "has sequence {s} where {seq} was expected (an entry was deleted, duplicated or reordered)"
            ))
        }
        None => return Err("has no sequence number".into()),
    }
    if let Some(prev) = prev {
        if entry.get("prev").and_then(Value::as_str) != Some(prev) {
            return Err("does not follow the entry before it (an entry was deleted or reordered)".into());
        }
    }
    let stated = entry.get("hash").and_then(Value::as_str).ok_or("has no hash")?;
    let hash = entry_hash(entry).map_err(|e| e.message().to_owned())?;
    if stated != hash {
        return Err("does not match its hash (it was edited)".into());
    }
    let sig: [u8; 64] = entry
        .get("sig")
        .and_then(Value::as_str)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or("has no valid signature")?;
    if !issuer.verify_strict(&signing_message(&hash), &sig) {
        return Err("is not signed by this issuer key".into());
    }
    Ok(hash)
}

/// Verify a whole log: every entry in sequence, each following the one before, each hash and
/// signature good. With `expect_head`, an entry with that hash must be present (so a log cut back
/// to before a head a monitor recorded is caught).
pub fn verify_audit_log(
    reader: impl BufRead,
    issuer: &PublicKey,
    expect_head: Option<&str>,
) -> std::result::Result<AuditSummary, AuditBreak> {
    let mut reader = reader;
    let (mut entries, mut head, mut torn_tail) = (0u64, GENESIS.to_owned(), 0u64);
    let mut seen_expected = expect_head.is_none() || expect_head == Some(GENESIS);
    let mut line = Vec::new();
    loop {
        line.clear();
        let seq = entries + 1;
        let fail = |reason: &str| AuditBreak { line: seq, reason: reason.to_owned() };
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return Err(fail("cannot be read")),
        }
        if line.last() != Some(&b'\n') {
            // the end of the file mid-entry: a write cut short, never answered (see AuditLog::open)
            torn_tail = line.len() as u64;
            break;
        }
        let entry = read_line(&line).map_err(fail)?;
        head = check_entry(&entry, seq, Some(&head), issuer).map_err(|reason| fail(&reason))?;
        entries = seq;
        seen_expected |= expect_head == Some(head.as_str());
    }
    if !seen_expected {
        return Err(AuditBreak {
            line: entries + 1,
            reason: "the expected head entry is missing (the log was cut short)".into(),
        });
    }
    Ok(AuditSummary { entries, head, torn_tail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record<'a>(op: &'a str, holder: &'a str) -> AuditRecord<'a> {
        AuditRecord {
            op: Some(op),
            peer: json!({"uid": 1000, "gid": 1000, "pid": 42}),
            outcome: "ok",
            holder_id: Some(holder),
            revocation_id: Some("rev-1"),
            signed_sha256: Some("ab"),
            key_id: None,
        }
    }

    fn log_with(entries: usize) -> (PathBuf, IssuerKey) {
        let dir = std::env::temp_dir().join(format!("trustcore-audit-{}-{}", std::process::id(), getrandom_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let key = IssuerKey::generate().unwrap();
        let mut log = AuditLog::open(&path, &key).unwrap();
        for i in 0..entries {
            log.append(&record("mint", &format!("gpu-{i}")), 1_700_000_000_000 + i as u64).unwrap();
        }
        (path, key)
    }

    fn getrandom_u64() -> u64 {
        let mut b = [0u8; 8];
        getrandom::getrandom(&mut b).unwrap();
        u64::from_le_bytes(b)
    }

    fn verify(path: &Path, key: &IssuerKey) -> std::result::Result<AuditSummary, AuditBreak> {
        verify_audit_log(BufReader::new(File::open(path).unwrap()), &key.public_key(), None)
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        std::fs::write(path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    }

    #[test]
    fn a_whole_log_verifies_and_reopening_continues_the_chain() {
        let (path, key) = log_with(3);
        let summary = verify(&path, &key).unwrap();
        assert_eq!(summary.entries, 3);
        let mut log = AuditLog::open(&path, &key).unwrap();
        assert_eq!((log.entries(), log.head()), (3, summary.head.as_str()));
        log.append(&record("sign_job", "gpu-9"), 1).unwrap();
        assert_eq!(verify(&path, &key).unwrap().entries, 4);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("secret"));
    }

    #[test]
    fn each_kind_of_tampering_is_found_at_its_entry() {
        let (path, key) = log_with(5);
        let original = lines(&path);
        let mut edited = original.clone();
        edited[2] = edited[2].replace("gpu-2", "gpu-X");
        write_lines(&path, &edited);
        let err = verify(&path, &key).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.reason.contains("edited"), "{err}");

        let mut deleted = original.clone();
        deleted.remove(1);
        write_lines(&path, &deleted);
        assert_eq!(verify(&path, &key).unwrap_err().line, 2);

        let mut reordered = original.clone();
        reordered.swap(3, 4);
        write_lines(&path, &reordered);
        assert_eq!(verify(&path, &key).unwrap_err().line, 4);

        let whole = original.iter().map(|l| format!("{l}\n")).collect::<String>();
        // a last entry cut mid-write (a crash): reported, never answered, cut off by the next open
        std::fs::write(&path, &whole[..whole.len() - 10]).unwrap();
        let summary = verify(&path, &key).unwrap();
        assert_eq!((summary.entries, summary.torn_tail as usize), (4, original[4].len() + 1 - 10));
        let reopened = AuditLog::open(&path, &key).unwrap();
        assert_eq!((reopened.entries(), reopened.torn_tail() as usize), (4, original[4].len() + 1 - 10));
        drop(reopened);
        assert_eq!(verify(&path, &key).unwrap().torn_tail, 0, "cut off on open");
        // an entry that is whole but edited is a break, and no signer continues it
        let mut edited = original.clone();
        edited[4] = edited[4].replacen("\"seq\":5", "\"seq\":6", 1);
        write_lines(&path, &edited);
        assert_eq!(verify(&path, &key).unwrap_err().line, 5);
        assert!(AuditLog::open(&path, &key).is_err(), "a log ending in a broken entry must not be continued");

        // whole entries cut off the end: caught against a head a monitor recorded
        write_lines(&path, &original);
        let head = verify(&path, &key).unwrap().head;
        write_lines(&path, &original[..3]);
        assert!(verify(&path, &key).is_ok());
        let cut = verify_audit_log(BufReader::new(File::open(&path).unwrap()), &key.public_key(), Some(&head));
        assert!(cut.unwrap_err().reason.contains("cut short"));

        // one line that reads two ways: keys prepended that a first-occurrence reader would take
        let mut doubled = original.clone();
        doubled[1] = doubled[1].replacen('{', r#"{"holder_id":"evil","op":"mint","outcome":"ok","#, 1);
        write_lines(&path, &doubled);
        let err = verify(&path, &key).unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.reason.contains("duplicated"), "{err}");
        // the same object written in another form (spaces, key order) is not the line that was signed
        let mut reformatted = original.clone();
        reformatted[0] = reformatted[0].replacen(",", ", ", 1);
        write_lines(&path, &reformatted);
        assert!(verify(&path, &key).unwrap_err().reason.contains("canonical"));

        // another key's log
        write_lines(&path, &original);
        let other = IssuerKey::generate().unwrap();
        assert!(verify(&path, &other).unwrap_err().reason.contains("not signed"));
        assert!(AuditLog::open(&path, &other).is_err());
    }
}
