//! What the loader reports: every problem names the dotted path it is about, printed the way
//! OpenClaw prints it (`bindings.0.agentId: ...`, docs/openclaw-routing.md 1.5), so a user
//! can find the spot in their file and a script can match on it.

use std::fmt;
use std::path::PathBuf;

use super::digest::{ConfigDigest, Sources};

/// A location in the config tree: object keys and array indices joined by dots.
///
/// The root prints as `<root>`, as in OpenClaw's issue format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigPath(String);

impl ConfigPath {
    /// The root of the document.
    pub fn root() -> Self {
        Self(String::new())
    }

    /// Parses a dotted path written by hand (tests, the command line).
    pub fn parse(dotted: &str) -> Self {
        Self(dotted.to_owned())
    }

    /// The path of `key` inside this object.
    pub fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Self(key.to_owned())
        } else {
            Self(format!("{}.{key}", self.0))
        }
    }

    /// The path of element `index` inside this array.
    pub fn index(&self, index: usize) -> Self {
        self.key(&index.to_string())
    }

    /// The path of the whole document.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The dotted path (`channels.dingtalk-connector.accounts.bot1.clientId`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when this path equals `pattern`, where a `*` segment in the pattern matches any
    /// one segment (used for the tables of OpenClaw-only keys).
    pub fn matches(&self, pattern: &str) -> bool {
        let mut mine = self.0.split('.').filter(|s| !s.is_empty());
        let mut theirs = pattern.split('.').filter(|s| !s.is_empty());
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if b == "*" || a == b => continue,
                _ => return false,
            }
        }
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("<root>")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// One problem (error or warning) at one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Where in the document.
    pub path: ConfigPath,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// A problem at `path`.
    pub fn new(path: ConfigPath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Errors and warnings gathered over the whole load, so that a user sees every problem at once
/// instead of fixing them one run at a time.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    /// Problems that stop the config from loading.
    pub errors: Vec<Issue>,
    /// Problems reported without stopping it.
    pub warnings: Vec<Issue>,
    /// What was read, for the load's fingerprint (`ConfigDigest`).
    pub sources: Sources,
}

impl Diagnostics {
    /// Records an error at `path`.
    pub fn error(&mut self, path: ConfigPath, message: impl Into<String>) {
        self.errors.push(Issue::new(path, message));
    }

    /// Records a warning at `path`.
    pub fn warn(&mut self, path: ConfigPath, message: impl Into<String>) {
        self.warnings.push(Issue::new(path, message));
    }

    /// Any error so far?
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No `--config`, no `$OPENCLAW_CONFIG_PATH`, and none of the default locations exist.
    #[error("no config file found (looked at {})", display_paths(tried))]
    NotFound {
        /// The paths looked at.
        tried: Vec<PathBuf>,
    },

    /// The main file exists but cannot be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },

    /// The file was read but is not a valid config; `errors` holds every problem found.
    #[error("invalid config {}:\n{}", file.display(), display_issues(errors))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every error, with its JSON path.
        errors: Vec<Issue>,
        /// Every warning.
        warnings: Vec<Issue>,
        /// What was read, so that a refused edit is refused once, not at every file event.
        digest: ConfigDigest,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn display_issues(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_dotted_with_numeric_indices() {
        let p = ConfigPath::root().key("bindings").index(0).key("agentId");
        assert_eq!(p.to_string(), "bindings.0.agentId");
        assert_eq!(ConfigPath::root().to_string(), "<root>");
    }

    #[test]
    fn wildcard_patterns_match_one_segment() {
        let p = ConfigPath::parse("agents.list.3");
        assert!(p.matches("agents.list.*"));
        assert!(!p.matches("agents.list"));
        assert!(!p.matches("agents.*.*.x"));
        assert!(ConfigPath::root().matches(""));
    }
}
