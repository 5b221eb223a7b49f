//! The installation's keys, kept outside the database: one keys the audit chain (an HMAC in
//! place of a bare hash, and a signature on the head file), one seals secrets stored in the
//! database (webhook signing secrets). A copy of the database alone can neither forge the
//! chain nor read the secrets.
//!
//! The file is `DATA_DIR/keys` (or `NANSEN_KEY_FILE`, which every node of a deployment on
//! one PostgreSQL must share), owner-only, made on first use. Keep it with backups, apart
//! from the database's.

use crate::{owner_only, Result, StoreError};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// What a sealed secret starts with in the database.
const SEALED: &str = "sealed1:";

#[derive(Clone)]
pub struct Keys {
    audit: [u8; 32],
    secrets: [u8; 32],
    /// The first audit entry keyed: entries before it were written before the installation
    /// had keys, and keep their bare SHA-256.
    pub keyed_from: i64,
    pub path: PathBuf,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keys({}, keyed from entry {})",
            self.path.display(),
            self.keyed_from
        )
    }
}

/// Where the keys are for a data directory.
pub fn key_file(data_dir: &Path) -> PathBuf {
    std::env::var_os("NANSEN_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("keys"))
}

impl Keys {
    /// Reads the key file, or makes one (keying the chain from `next_entry` on).
    pub fn load_or_make(path: &Path, next_entry: i64) -> Result<Keys> {
        let io = |e| StoreError::DataDir {
            path: path.to_path_buf(),
            source: e,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Keys::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut rng = rand::thread_rng();
                let (mut audit, mut secrets) = ([0u8; 32], [0u8; 32]);
                rng.fill_bytes(&mut audit);
                rng.fill_bytes(&mut secrets);
                let keys = Keys {
                    audit,
                    secrets,
                    keyed_from: next_entry,
                    path: path.to_path_buf(),
                };
                let text = format!(
                    "# Nansen's keys: secret. Without this file the audit chain cannot be verified nor webhook secrets read.\naudit {}\nsecrets {}\nkeyed-from {}\n",
                    hex::encode(audit),
                    hex::encode(secrets),
                    next_entry
                );
                // Made whole under another name, then moved in without replacing: two processes
                // starting at once agree on one file.
                let tmp = path.with_extension(format!("new{}", std::process::id()));
                std::fs::write(&tmp, text).map_err(io)?;
                owner_only(&tmp, false).map_err(io)?;
                match std::fs::hard_link(&tmp, path) {
                    Ok(()) => {
                        let _ = std::fs::remove_file(&tmp);
                        Ok(keys)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let _ = std::fs::remove_file(&tmp);
                        Keys::parse(path, &std::fs::read_to_string(path).map_err(io)?)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Keys> {
        let bad =
            |why: &str| StoreError::Corrupt(format!("the key file {}: {why}", path.display()));
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).map(str::trim))
                .ok_or_else(|| bad(&format!("no {name} line")))
        };
        let key = |name: &str| -> Result<[u8; 32]> {
            hex::decode(field(name)?)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad(&format!("the {name} key is not 64 hex digits")))
        };
        Ok(Keys {
            audit: key("audit ")?,
            secrets: key("secrets ")?,
            keyed_from: field("keyed-from ")?
                .parse()
                .map_err(|_| bad("keyed-from is not a number"))?,
            path: path.to_path_buf(),
        })
    }

    /// HMAC-SHA256 of the parts, each followed by a unit separator, under the audit key.
    pub fn audit_mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.audit).expect("any key length");
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(&[0x1f]);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// A secret as the database keeps it: encrypted and authenticated.
    pub fn seal(&self, secret: &str) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.secrets));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .expect("encryption of a short secret");
        format!("{SEALED}{}:{}", hex::encode(nonce), hex::encode(sealed))
    }

    /// The secret back; a value that was never sealed (written before keys) is returned as it is.
    pub fn unseal(&self, stored: &str) -> Result<String> {
        let Some(rest) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_string());
        };
        let bad = || {
            StoreError::Corrupt(
                "a sealed secret cannot be opened with this installation's key".into(),
            )
        };
        let (nonce, sealed) = rest.split_once(':').ok_or_else(bad)?;
        let nonce: [u8; 12] = hex::decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(bad)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.secrets));
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                hex::decode(sealed).map_err(|_| bad())?.as_slice(),
            )
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_the_key_file_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        let keys = Keys::load_or_make(&path, 7).unwrap();
        let again = Keys::load_or_make(&path, 99).unwrap();
        assert_eq!(
            (again.keyed_from, again.audit, again.secrets),
            (7, keys.audit, keys.secrets),
            "read back, not made anew"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let sealed = keys.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc") && Keys::is_sealed(&sealed));
        assert_eq!(keys.unseal(&sealed).unwrap(), "whsec_abc");
        let other = Keys::load_or_make(&dir.path().join("other"), 1).unwrap();
        assert!(
            other.unseal(&sealed).is_err(),
            "another installation's key opens nothing"
        );
        assert_ne!(keys.audit_mac(&["a", "b"]), other.audit_mac(&["a", "b"]));
    }
}
