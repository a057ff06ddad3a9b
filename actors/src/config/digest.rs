//! A fingerprint of everything a load read: the main file, every `$include`, and the `.env`
//! files. Hot reload compares fingerprints instead of trusting file events, because reading a
//! file (our own reload, `cat`, `config check`) raises events too, and an editor's save is a
//! burst of them: only a change of content is a change of config.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// SHA-256 over each source's path and bytes, in the order they were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfigDigest([u8; 32]);

impl fmt::Display for ConfigDigest {
    /// The first 12 hex digits, enough to tell versions apart in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Collects the sources while a load runs.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    hasher: Sha256,
    /// Files read that hold credentials (the main file, `.env` files, includes with secret
    /// keys): they get the same permission check as the main file.
    pub secret_files: Vec<PathBuf>,
}

impl Sources {
    /// Adds one source as read. The path is part of it, so moving an include to another file
    /// with the same text is a change.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) {
        let name = path.to_string_lossy();
        self.hasher.update((name.len() as u64).to_le_bytes());
        self.hasher.update(name.as_bytes());
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// Marks a file read as one that holds credentials.
    pub fn holds_secrets(&mut self, path: &Path) {
        if !self.secret_files.iter().any(|p| p == path) {
            self.secret_files.push(path.to_path_buf());
        }
    }

    pub fn finish(&self) -> ConfigDigest {
        ConfigDigest(self.hasher.clone().finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_sources_same_digest_and_any_byte_or_name_changes_it() {
        let digest = |parts: &[(&str, &str)]| {
            let mut h = Sources::default();
            for (p, b) in parts {
                h.add(Path::new(p), b.as_bytes());
            }
            h.finish()
        };
        let a = digest(&[("/c/openclaw.json", "{}"), ("/c/a.json5", "{x:1}")]);
        assert_eq!(
            a,
            digest(&[("/c/openclaw.json", "{}"), ("/c/a.json5", "{x:1}")])
        );
        assert_ne!(
            a,
            digest(&[("/c/openclaw.json", "{}"), ("/c/a.json5", "{x:2}")])
        );
        assert_ne!(
            a,
            digest(&[("/c/openclaw.json", "{}"), ("/c/b.json5", "{x:1}")])
        );
        // Boundaries are part of the digest: moving a byte between sources is a change.
        assert_ne!(
            digest(&[("/a", "xy"), ("/b", "z")]),
            digest(&[("/a", "x"), ("/b", "yz")])
        );
        assert_eq!(a.to_string().len(), 12);
    }
}
