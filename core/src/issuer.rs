//! Which issuer public key verifies a token: one key, or several selected by the token's root key id.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::keys::PublicKey;

/// The issuer key(s) a verifier trusts. With several (key rotation) the token's root key id picks
/// one; a token naming no id, or an unknown id, is TOKEN_INVALID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuerKeys {
    One(PublicKey),
    ByKeyId(BTreeMap<u32, PublicKey>),
}

impl IssuerKeys {
    pub fn one(key: PublicKey) -> Self {
        IssuerKeys::One(key)
    }

    /// One issuer key from hex. A service passes the same hex on every request and parsing it is a
    /// curve point decompression (~10 µs), so the last key parsed is remembered (public data only).
    pub fn from_hex(public_hex: &str) -> Result<Self> {
        static LAST: Mutex<Option<(String, PublicKey)>> = Mutex::new(None);
        if let Ok(last) = LAST.lock() {
            if let Some((_, key)) = last.as_ref().filter(|(hex, _)| hex == public_hex) {
                return Ok(IssuerKeys::One(*key));
            }
        }
        let key = PublicKey::from_hex(public_hex)?;
        if let Ok(mut last) = LAST.lock() {
            *last = Some((public_hex.to_owned(), key));
        }
        Ok(IssuerKeys::One(key))
    }

    pub fn by_key_id(keys: impl IntoIterator<Item = (u32, PublicKey)>) -> Self {
        IssuerKeys::ByKeyId(keys.into_iter().collect())
    }

    pub(crate) fn select(&self, root_key_id: Option<u32>) -> Option<PublicKey> {
        match (self, root_key_id) {
            (IssuerKeys::One(key), _) => Some(*key),
            (IssuerKeys::ByKeyId(keys), Some(id)) => keys.get(&id).copied(),
            (IssuerKeys::ByKeyId(_), None) => None,
        }
    }
}

impl From<PublicKey> for IssuerKeys {
    fn from(key: PublicKey) -> Self {
        IssuerKeys::One(key)
    }
}
