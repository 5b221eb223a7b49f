//! The keys that keep cases unreadable outside Nansen.
//!
//! Every case has its own random key, which seals its personal and protection data. That key
//! is stored in the database wrapped (encrypted) by the installation's case key, a
//! *generation* of which is kept in the case key file: `DATA_DIR/case-keys`, or the path in
//! `NANSEN_CASE_KEY_FILE`, which every node of a deployment must share. The file is never
//! copied into backups: erasing a case destroys its key and moves every other case to a new
//! generation, so no copy of the database taken before, backups included, can open it again.
//! The file also holds the key of the index (keyed hashes of names and birth dates).

use crate::{owner_only, Result, StoreError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::{Path, PathBuf};

/// Where the case key file is for a data directory.
pub fn case_key_file(data_dir: &Path) -> PathBuf {
    std::env::var_os("NANSEN_CASE_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("case-keys"))
}

/// One case's key: seals its sections, notes and reasons, each bound to what it is.
pub struct CaseKey([u8; 32]);

impl CaseKey {
    pub fn new() -> CaseKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        CaseKey(k)
    }

    /// `nonce || ciphertext`, authenticated together with `what` (so a sealed medical
    /// section cannot be passed off as another case's identity).
    pub fn seal(&self, what: &str, plain: &[u8]) -> Vec<u8> {
        seal(&self.0, what, plain)
    }

    pub fn open(&self, what: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        open(&self.0, what, sealed).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{what}: the sealed data does not open with its case's key"
            ))
        })
    }
}

impl Default for CaseKey {
    fn default() -> Self {
        CaseKey::new()
    }
}

fn seal(key: &[u8; 32], what: &str, plain: &[u8]) -> Vec<u8> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: what.as_bytes(),
            },
        )
        .expect("encryption in memory");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    out
}

fn open(key: &[u8; 32], what: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, body) = sealed.split_at(12);
    ChaCha20Poly1305::new(Key::from_slice(key))
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: what.as_bytes(),
            },
        )
        .ok()
}

/// The installation's case keys, as the file holds them.
#[derive(Clone)]
pub struct CaseKeys {
    /// Generations still held, oldest first; new case keys are wrapped by the last.
    generations: Vec<(i64, [u8; 32])>,
    index: [u8; 32],
    pub path: PathBuf,
}

impl std::fmt::Debug for CaseKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CaseKeys({}, generations {:?})",
            self.path.display(),
            self.generations.iter().map(|g| g.0).collect::<Vec<_>>()
        )
    }
}

fn random() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    k
}

impl CaseKeys {
    /// Reads the file, or makes it with a first generation.
    pub fn load_or_make(path: &Path) -> Result<CaseKeys> {
        let io = |e| StoreError::DataDir {
            path: path.to_path_buf(),
            source: e,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => CaseKeys::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = CaseKeys {
                    generations: vec![(1, random())],
                    index: random(),
                    path: path.to_path_buf(),
                };
                // Made whole under another name, then linked in without replacing: two
                // processes starting at once agree on one file.
                let tmp = path.with_extension(format!("new{}", std::process::id()));
                std::fs::write(&tmp, keys.text()).map_err(io)?;
                owner_only(&tmp, false).map_err(io)?;
                let linked = std::fs::hard_link(&tmp, path);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => Ok(keys),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        CaseKeys::parse(path, &std::fs::read_to_string(path).map_err(io)?)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Reads the file again (another node may have rotated).
    pub fn reload(&self) -> Result<CaseKeys> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| StoreError::DataDir {
            path: self.path.clone(),
            source: e,
        })?;
        CaseKeys::parse(&self.path, &text)
    }

    fn text(&self) -> String {
        let mut out = String::from(
            "# Nansen's case keys: secret. Without this file no case can be read. Keep it apart from backups.\n",
        );
        for (g, k) in &self.generations {
            out.push_str(&format!("generation {g} {}\n", hex::encode(k)));
        }
        out.push_str(&format!("index {}\n", hex::encode(self.index)));
        out
    }

    fn parse(path: &Path, text: &str) -> Result<CaseKeys> {
        let bad = |why: String| {
            StoreError::Corrupt(format!("the case key file {}: {why}", path.display()))
        };
        let key = |hex_text: &str| -> Result<[u8; 32]> {
            hex::decode(hex_text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("a key is not 64 hex digits".into()))
        };
        let mut generations = Vec::new();
        let mut index = None;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts[..] {
                ["generation", g, k] => generations.push((
                    g.parse()
                        .map_err(|_| bad(format!("{g:?} is not a generation number")))?,
                    key(k)?,
                )),
                ["index", k] => index = Some(key(k)?),
                _ => return Err(bad(format!("a line it cannot read: {:?}", parts.first()))),
            }
        }
        generations.sort_by_key(|g| g.0);
        if generations.is_empty() {
            return Err(bad("no generation line".into()));
        }
        Ok(CaseKeys {
            generations,
            index: index.ok_or_else(|| bad("no index line".into()))?,
            path: path.to_path_buf(),
        })
    }

    /// Writes the file whole under another name and moves it in.
    fn save(&self) -> Result<()> {
        let io = |e| StoreError::DataDir {
            path: self.path.clone(),
            source: e,
        };
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, self.text()).map_err(io)?;
        owner_only(&tmp, false).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// The generation new case keys are wrapped by.
    pub fn current(&self) -> i64 {
        self.generations.last().expect("at least one").0
    }

    pub fn generations(&self) -> Vec<i64> {
        self.generations.iter().map(|g| g.0).collect()
    }

    /// A case key wrapped by `generation`, bound to the case's reference; none when the file
    /// does not hold that generation.
    pub fn wrap(&self, generation: i64, key: &CaseKey, case: &str) -> Option<Vec<u8>> {
        let (_, kek) = self.generations.iter().find(|g| g.0 == generation)?;
        Some(seal(kek, &format!("case key {case}"), &key.0))
    }

    /// The case key back; `None` when this file no longer holds its generation.
    pub fn unwrap(&self, generation: i64, wrapped: &[u8], case: &str) -> Result<Option<CaseKey>> {
        let Some((_, kek)) = self.generations.iter().find(|g| g.0 == generation) else {
            return Ok(None);
        };
        let plain = open(kek, &format!("case key {case}"), wrapped).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "case {case}: its key does not open with generation {generation} of the case key file"
            ))
        })?;
        let key: [u8; 32] = plain
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("case {case}: its key is not 32 bytes")))?;
        Ok(Some(CaseKey(key)))
    }

    /// A keyed hash of a token (a name's skeleton, a birth date), so the index can be searched
    /// without holding what it finds.
    pub fn index(&self, token: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("any key length");
        mac.update(token.as_bytes());
        // Half the HMAC: 128 bits tell tokens apart and keep the index small.
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Adds a new generation to the file (keeping the old until `retire`), so a rotation
    /// that stops half way leaves every case readable.
    pub fn begin_rotation(&mut self) -> Result<i64> {
        let next = self.current() + 1;
        self.generations.push((next, random()));
        self.save()?;
        Ok(next)
    }

    /// Destroys every generation older than the current one.
    pub fn retire_old(&mut self) -> Result<Vec<i64>> {
        let current = self.current();
        let old: Vec<i64> = self
            .generations
            .iter()
            .map(|g| g.0)
            .filter(|g| *g != current)
            .collect();
        self.generations.retain(|g| g.0 == current);
        self.save()?;
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_key_opens_only_what_it_sealed_and_only_while_its_generation_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("case-keys");
        let mut keys = CaseKeys::load_or_make(&path).unwrap();
        let case = CaseKey::new();
        let sealed = case.seal("case abc identity", b"Amina Haddad");
        assert!(!sealed.windows(5).any(|w| w == b"Amina"));
        assert_eq!(
            case.open("case abc identity", &sealed).unwrap(),
            b"Amina Haddad"
        );
        assert!(
            case.open("case xyz identity", &sealed).is_err(),
            "bound to what it is"
        );
        let generation = keys.current();
        let wrapped = keys.wrap(generation, &case, "abc").unwrap();
        let back = keys.unwrap(generation, &wrapped, "abc").unwrap().unwrap();
        assert_eq!(
            back.open("case abc identity", &sealed).unwrap(),
            b"Amina Haddad"
        );
        assert!(keys.unwrap(generation, &wrapped, "xyz").is_err());
        assert_eq!(
            keys.index("dob:1990-04-02"),
            CaseKeys::load_or_make(&path)
                .unwrap()
                .index("dob:1990-04-02")
        );

        let next = keys.begin_rotation().unwrap();
        assert_eq!(keys.reload().unwrap().generations(), vec![generation, next]);
        assert!(keys.wrap(next + 1, &case, "abc").is_none());
        assert_eq!(keys.retire_old().unwrap(), vec![generation]);
        let reread = keys.reload().unwrap();
        assert_eq!(reread.generations(), vec![next]);
        assert!(
            reread
                .unwrap(generation, &wrapped, "abc")
                .unwrap()
                .is_none(),
            "a retired generation opens nothing"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
