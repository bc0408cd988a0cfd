//! The two Ed25519 identities (issuer and holder) and strict public-key handling.
//!
//! Both private keys are a 32-byte seed, zeroized on drop and never printed. Public keys are parsed
//! strictly: non-canonical encodings and small-order points are refused, so one key has one spelling.

use std::fmt;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, Result};

/// A private Ed25519 seed, held once: as the signing key biscuit mints with (which also signs proofs,
/// jobs and audit entries: Ed25519 is deterministic, the signatures are RFC 8032's), in one locked
/// mapping left out of core dumps (crate::locked), shared by reference, so cloning or moving a key
/// never copies the seed. Debug never shows it.
#[derive(Clone)]
struct Seed {
    keys: std::sync::Arc<crate::locked::Locked<Keys>>,
    public: PublicKey,
}

struct Keys {
    biscuit: biscuit_auth::KeyPair, // an ed25519-dalek key inside, zeroized on drop
}

impl Seed {
    fn generate() -> Result<Seed> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())
            .map_err(|_| Error::new(ErrorCode::Internal, "the operating system's random source failed"))?;
        Seed::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8; 32]) -> Result<Seed> {
        let biscuit = biscuit_auth::PrivateKey::from_bytes(bytes, biscuit_auth::Algorithm::Ed25519)
            .map_err(|_| Error::new(ErrorCode::Internal, "seed refused by biscuit"))?;
        let keys = crate::locked::Locked::new(|| Keys { biscuit: biscuit_auth::KeyPair::from(&biscuit) })?;
        drop(biscuit);
        let public = {
            let verifying = SigningKey::from_bytes(bytes).verifying_key();
            PublicKey { bytes: verifying.to_bytes(), verifying }
        };
        Ok(Seed { keys: std::sync::Arc::new(keys), public })
    }

    fn from_slice(bytes: &[u8], role: &str) -> Result<Seed> {
        let array: &[u8; 32] =
            bytes.try_into().map_err(|_| Error::malformed(format!("{role} seed must be 32 bytes")))?;
        Seed::from_bytes(array)
    }

    fn from_hex(secret_hex: &str, role: &str) -> Result<Seed> {
        let bytes = Zeroizing::new(
            hex::decode(secret_hex).map_err(|_| Error::malformed(format!("{role} seed is not valid hex")))?,
        );
        Seed::from_slice(&bytes, role)
    }

    fn seed_bytes(&self) -> Zeroizing<[u8; 32]> {
        // the private key's bytes are the seed (a copy, wiped when dropped: only on request)
        let private = self.keys.biscuit.private();
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&private.to_bytes()[..32]);
        seed
    }

    fn secret_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.seed_bytes().as_ref()))
    }

    fn public(&self) -> PublicKey {
        self.public
    }

    fn sign(&self, message: &[u8]) -> [u8; 64] {
        let signature = self.keys.biscuit.sign(message).expect("Ed25519 signing does not fail");
        signature.to_bytes().try_into().expect("an Ed25519 signature is 64 bytes")
    }
}

macro_rules! private_key_type {
    ($name:ident, $role:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $name {
            seed: Seed,
        }

        impl $name {
            /// A fresh key from the operating system's random source.
            pub fn generate() -> Result<Self> {
                Ok($name { seed: Seed::generate()? })
            }

            /// A key from its 32-byte seed.
            pub fn from_seed(seed: &[u8]) -> Result<Self> {
                Ok($name { seed: Seed::from_slice(seed, $role)? })
            }

            /// A key from its seed in hex (what a key file or secret store holds).
            pub fn from_secret_hex(secret_hex: &str) -> Result<Self> {
                Ok($name { seed: Seed::from_hex(secret_hex, $role)? })
            }

            /// The private seed as hex, wiped from memory when dropped. Handle with care.
            pub fn secret_hex(&self) -> Zeroizing<String> {
                self.seed.secret_hex()
            }

            /// The private seed bytes, wiped from memory when dropped.
            pub fn seed_bytes(&self) -> Zeroizing<[u8; 32]> {
                self.seed.seed_bytes()
            }

            pub fn public_key(&self) -> PublicKey {
                self.seed.public()
            }

            pub fn public_hex(&self) -> String {
                self.public_key().to_hex()
            }

            /// A detached Ed25519 signature (RFC 8032, deterministic).
            pub fn sign(&self, message: &[u8]) -> [u8; 64] {
                self.seed.sign(message)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // the public half only: a secret must never reach a log through Debug
                f.debug_struct(stringify!($name)).field("public", &self.public_hex()).finish()
            }
        }
    };
}

private_key_type!(
    IssuerKey,
    "issuer",
    "The issuer's key: the Biscuit root key and the job signer. Lives in the signer process."
);
private_key_type!(
    WorkerKey,
    "worker",
    "A holder's key: signs the per-request proof of possession. Never leaves the holder."
);

impl IssuerKey {
    /// The key as biscuit signs with it, kept beside ours in the locked mapping (not rebuilt from
    /// the seed for every mint, which would leave copies of the seed behind).
    pub(crate) fn biscuit_keypair(&self) -> Result<&biscuit_auth::KeyPair> {
        Ok(&self.seed.keys.biscuit)
    }
}

impl WorkerKey {
    /// The key as biscuit signs a third-party block with it (a holder delegating its token). The
    /// copy is biscuit's signing key, wiped when dropped.
    pub(crate) fn biscuit_private_key(&self) -> biscuit_auth::PrivateKey {
        self.seed.keys.biscuit.private()
    }
}

/// An Ed25519 public key, parsed strictly (canonical encoding, not of small order).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    bytes: [u8; 32],
    verifying: VerifyingKey,
}

impl PublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| Error::malformed("public key must be 32 bytes"))?;
        let verifying =
            VerifyingKey::from_bytes(&array).map_err(|_| Error::malformed("public key is not a curve point"))?;
        // decompression tolerates a y coordinate >= p; re-encoding the point shows it, so one key keeps
        // one spelling (`to_bytes` would only echo the input)
        if verifying.to_edwards().compress().to_bytes() != array {
            return Err(Error::malformed("public key is not canonically encoded"));
        }
        if verifying.is_weak() {
            return Err(Error::malformed("public key is of small order"));
        }
        Ok(PublicKey { bytes: array, verifying })
    }

    pub fn from_hex(public_hex: &str) -> Result<PublicKey> {
        let bytes = hex::decode(public_hex).map_err(|_| Error::malformed("public key is not valid hex"))?;
        PublicKey::from_bytes(&bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// Strict RFC 8032 verification: small-order keys and R, and non-canonical S, are refused.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.verifying.verify_strict(message, &Signature::from_bytes(signature)).is_ok()
    }

    /// Ed25519 batch verification of `(key, message, signature)` triples: true only if every one
    /// verifies. Not strict (see `Verifier::authenticate_batch`); a false says only that at least
    /// one failed.
    pub fn verify_batch(items: &[(&PublicKey, &[u8], &[u8; 64])]) -> bool {
        let messages: Vec<&[u8]> = items.iter().map(|(_, m, _)| *m).collect();
        let signatures: Vec<Signature> = items.iter().map(|(_, _, s)| Signature::from_bytes(s)).collect();
        let keys: Vec<VerifyingKey> = items.iter().map(|(k, _, _)| k.verifying).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    }

    pub(crate) fn to_biscuit(self) -> Result<biscuit_auth::PublicKey> {
        biscuit_auth::PublicKey::from_bytes(&self.bytes, biscuit_auth::Algorithm::Ed25519)
            .map_err(|_| Error::new(ErrorCode::Internal, "public key refused by biscuit"))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// Whether `value` is exactly 64 hex digits (a 32-byte key), as trust-core 0.1's `is_hex_key`.
pub fn is_hex_key(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Constant-time equality of two strings (the time depends on the lengths only).
pub fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut diff = 0u8;
    for (a, b) in left.iter().zip(right) {
        diff |= a ^ b;
    }
    // black_box keeps the optimiser from turning the fold into an early exit
    std::hint::black_box(diff) == 0
}

/// Parse a 64-byte signature from hex.
pub(crate) fn signature_from_hex(signature_hex: &str, what: &str) -> Result<[u8; 64]> {
    let bytes = hex::decode(signature_hex).map_err(|_| Error::malformed(format!("{what} is not valid hex")))?;
    bytes.try_into().map_err(|_| Error::malformed(format!("{what} must be 64 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_seed() {
        let key = IssuerKey::from_secret_hex(&"11".repeat(32)).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&"11".repeat(32)), "{shown}");
        assert!(shown.contains(&key.public_hex()));
        let worker = WorkerKey::from_secret_hex(&"22".repeat(32)).unwrap();
        assert!(!format!("{worker:?}").contains(&"22".repeat(32)));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(IssuerKey::generate().unwrap().public_hex(), IssuerKey::generate().unwrap().public_hex());
    }

    #[test]
    fn public_keys_are_parsed_strictly() {
        // the identity point: small order
        let identity = format!("01{}", "00".repeat(31));
        assert_eq!(PublicKey::from_hex(&identity).unwrap_err().code(), ErrorCode::MalformedInput);
        // y = p + 3 spells a point whose canonical spelling is y = 3 (if it is on the curve)
        let mut non_canonical = [0xffu8; 32];
        non_canonical[31] = 0x7f;
        non_canonical[0] = 0xed + 3;
        assert!(PublicKey::from_bytes(&non_canonical).is_err());
        let good = WorkerKey::from_secret_hex(&"33".repeat(32)).unwrap().public_key();
        assert_eq!(PublicKey::from_bytes(good.as_bytes()).unwrap(), good);
    }

    #[test]
    fn constant_time_equal_matches_equality() {
        assert!(constant_time_equal(b"abc", b"abc"));
        assert!(!constant_time_equal(b"abc", b"abd"));
        assert!(!constant_time_equal(b"abc", b"ab"));
        assert!(constant_time_equal(b"", b""));
    }
}
