//! RFC 7638 JWK thumbprint of an Ed25519 public key (RFC 8037 §2 key form): the `keyid` a
//! trustcore signature names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::keys::PublicKey;

/// base64url (no padding) of SHA-256 over `{"crv":"Ed25519","kty":"OKP","x":"<key>"}`: the required
/// members in lexicographic order, no whitespace (RFC 7638 §3.2).
pub fn jwk_thumbprint(key: &PublicKey) -> String {
    let jwk = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, URL_SAFE_NO_PAD.encode(key.as_bytes()));
    URL_SAFE_NO_PAD.encode(Sha256::digest(jwk.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_8037_appendix_a3() {
        let x = URL_SAFE_NO_PAD.decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let key = PublicKey::from_bytes(&x).unwrap();
        assert_eq!(jwk_thumbprint(&key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
