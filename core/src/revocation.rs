//! Revocation ids: one spelling for every id, and the deny-lists they are checked against.
//!
//! A block's revocation id is its signature in lower-case hex; an app revocation id is what the
//! issuer wrote at mint. An id spelled another way (upper case, a `0x` prefix, surrounding spaces)
//! would be stored and never match, and the operator would believe the token revoked. So every id
//! that enters a deny-list or a store goes through [`canonical_revocation_id`]: hex ids are lower-cased,
//! anything ambiguous is refused (MALFORMED_INPUT), never kept unmatched.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use crate::error::{Error, Result};

/// The longest revocation id accepted (a block id is 128 hex digits).
pub const MAX_REVOCATION_ID_BYTES: usize = 256;

/// The one spelling of a revocation id: an id made only of hex digits is lower-cased (a block id, or
/// an app id written in hex); an empty or overlong id, one holding whitespace or a control
/// character, or a hex id behind `0x` is MALFORMED_INPUT.
pub fn canonical_revocation_id(id: &str) -> Result<Cow<'_, str>> {
    let malformed = |why: &str| Err(Error::malformed(format!("revocation id {why}")));
    if id.is_empty() {
        return malformed("is empty");
    }
    if id.len() > MAX_REVOCATION_ID_BYTES {
        return malformed("is too long");
    }
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return malformed("holds whitespace or a control character");
    }
    let hex_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if (id.starts_with("0x") || id.starts_with("0X")) && hex_digits(&id[2..]) {
        return malformed("is written with a 0x prefix (give the hex digits alone)");
    }
    if hex_digits(id) && id.bytes().any(|b| b.is_ascii_uppercase()) {
        return Ok(Cow::Owned(id.to_ascii_lowercase()));
    }
    Ok(Cow::Borrowed(id))
}

/// A token's app revocation id as deny-lists are asked about it: in its one spelling, or as the
/// issuer wrote it when it has none (written before ids had one spelling; no entry can then match it,
/// and its block ids still revoke the token).
pub(crate) fn app_id_for_lookup(id: &str) -> String {
    canonical_revocation_id(id).map(Cow::into_owned).unwrap_or_else(|_| id.to_owned())
}

/// A deny-list of revocation ids. Stores that can fail (Redis) return STORE_UNAVAILABLE, never "no".
/// `is_revoked` is asked with canonical ids.
pub trait RevocationList {
    fn is_revoked(&self, revocation_id: &str) -> Result<bool>;
}

/// A deny-list read once: every id in its canonical form (MALFORMED_INPUT for one that has none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DenyList {
    ids: HashSet<String>,
}

impl DenyList {
    pub fn new<I, S>(ids: I) -> Result<DenyList>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = HashSet::new();
        for id in ids {
            set.insert(canonical_revocation_id(id.as_ref())?.into_owned());
        }
        Ok(DenyList { ids: set })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

impl RevocationList for DenyList {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        Ok(self.ids.contains(id))
    }
}

/// A plain list is read entry by entry in canonical form: an entry that has none is MALFORMED_INPUT.
impl<T: AsRef<str>> RevocationList for [T] {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        for entry in self {
            if canonical_revocation_id(entry.as_ref())? == id {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<T: AsRef<str>> RevocationList for Vec<T> {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        self.as_slice().is_revoked(id)
    }
}

/// Sets are asked for the canonical id; build them with [`DenyList::new`] to have every entry in
/// that form (a set holding another spelling of an id does not match it).
impl<S: std::hash::BuildHasher> RevocationList for HashSet<String, S> {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        Ok(self.contains(id))
    }
}

impl RevocationList for BTreeSet<String> {
    fn is_revoked(&self, id: &str) -> Result<bool> {
        Ok(self.contains(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_or_a_refusal() {
        let block = "AB".repeat(64);
        assert_eq!(canonical_revocation_id(&block).unwrap(), "ab".repeat(64));
        assert_eq!(canonical_revocation_id("rev-1").unwrap(), "rev-1");
        assert_eq!(canonical_revocation_id("Rev-1").unwrap(), "Rev-1", "not hex: as written");
        for bad in ["", " rev-1", "rev-1\n", "a b", "0xabcd", "0XABCD", "\u{0}x", &"a".repeat(300)] {
            assert!(canonical_revocation_id(bad).is_err(), "{bad:?}");
        }
        let list = DenyList::new([block.as_str()]).unwrap();
        assert!(list.is_revoked(&"ab".repeat(64)).unwrap());
        assert!(DenyList::new([" rev-1"]).is_err());
        assert!(vec![block.clone()].is_revoked(&"ab".repeat(64)).unwrap());
        assert!(vec!["0xab".to_owned()].is_revoked("ab").is_err());
    }
}
