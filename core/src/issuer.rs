//! Which issuer public key verifies a token: one key, or several selected by the token's root key id.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
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

    /// Several keys, each selected by its root key id. No key at all, or an id given twice, is
    /// MALFORMED_INPUT (one id must name one key, whichever binding built the list).
    pub fn by_key_id(keys: impl IntoIterator<Item = (u32, PublicKey)>) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (id, key) in keys {
            if map.insert(id, key).is_some() {
                return Err(Error::malformed(format!("root key id {id} is given twice")));
            }
        }
        if map.is_empty() {
            return Err(Error::malformed("no issuer key given"));
        }
        Ok(IssuerKeys::ByKeyId(map))
    }

    /// [`IssuerKeys::by_key_id`] from keys in hex.
    pub fn from_hex_by_key_id<'a>(keys: impl IntoIterator<Item = (u32, &'a str)>) -> Result<Self> {
        let parsed =
            keys.into_iter().map(|(id, hex)| Ok((id, PublicKey::from_hex(hex)?))).collect::<Result<Vec<_>>>()?;
        IssuerKeys::by_key_id(parsed)
    }

    /// A root key id written as text (a JavaScript object's key): decimal digits in their one
    /// spelling (`7`, never `07` or `+7`) that fit 32 bits, so two spellings cannot name one id.
    pub fn parse_key_id(text: &str) -> Result<u32> {
        let canonical =
            !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
        text.parse::<u32>()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| Error::malformed(format!("root key id {text:?} is not a whole number from 0 to 4294967295")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_names_one_key_in_one_spelling() {
        let hex = "ae4908ada274ef433d6f62a048683e29aa10360723f1c29022a221c5198c5622";
        assert!(IssuerKeys::from_hex_by_key_id([(1, hex), (2, hex)]).is_ok());
        assert!(IssuerKeys::from_hex_by_key_id([(1, hex), (1, hex)]).is_err(), "an id twice");
        assert!(IssuerKeys::from_hex_by_key_id([]).is_err(), "no key");
        assert_eq!(IssuerKeys::parse_key_id("0").unwrap(), 0);
        assert_eq!(IssuerKeys::parse_key_id("4294967295").unwrap(), u32::MAX);
        for bad in ["", "07", "+7", " 7", "7 ", "-1", "4294967296", "0x7", "7.0"] {
            assert!(IssuerKeys::parse_key_id(bad).is_err(), "{bad:?}");
        }
    }
}
