//! The process environment as the config loader sees it, behind a trait so that tests pass a
//! map instead of touching (and racing on) the real environment, as linkerd2-proxy does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the loader reads variables, the home directory and the working directory from.
pub trait Environment: Send + Sync {
    /// The value of a variable, `None` when unset. An empty value counts as unset, as in
    /// OpenClaw's `${VAR}` substitution (docs/openclaw-routing.md 1.4).
    fn var(&self, name: &str) -> Option<String>;

    /// The user's home directory (`OPENCLAW_HOME` overrides it).
    fn home_dir(&self) -> Option<PathBuf>;

    /// The working directory, where `./openclaw.json` and `./.env` are looked for.
    fn current_dir(&self) -> Option<PathBuf>;

    /// Where a variable's value comes from, in words, so that the operator can be told where
    /// a secret such as the operator token was found.
    fn origin(&self, _name: &str) -> String {
        "the environment".to_owned()
    }

    /// The config will run offline, against the DingTalk simulator and the offline model
    /// (`dingclaw demo --config`): credentials are never sent anywhere, so a missing or
    /// placeholder credential is not an error.
    fn offline(&self) -> bool {
        false
    }
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn home_dir(&self) -> Option<PathBuf> {
        if let Some(home) = self.var("OPENCLAW_HOME") {
            return Some(PathBuf::from(home));
        }
        std::env::home_dir()
    }

    fn current_dir(&self) -> Option<PathBuf> {
        std::env::current_dir().ok()
    }
}

/// A fixed environment for tests and embedders.
#[derive(Clone, Debug, Default)]
pub struct MapEnv {
    /// The variables.
    pub vars: HashMap<String, String>,
    /// The home folder (`~`).
    pub home: Option<PathBuf>,
    /// The working folder (where `.env` is looked for).
    pub cwd: Option<PathBuf>,
}

impl MapEnv {
    /// An empty environment: nothing is read from the host.
    pub fn new() -> Self {
        Self::default()
    }

    /// With the variable `name` set to `value`.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// With `home` as the home folder.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// With `cwd` as the working folder.
    pub fn with_cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }
}

impl Environment for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.vars
            .get("OPENCLAW_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home.clone())
    }

    fn current_dir(&self) -> Option<PathBuf> {
        self.cwd.clone()
    }
}

/// A variable source layered over another: `overlay` answers only for names the base leaves
/// unset. This is how `.env` files and `env.vars` fill in without overriding the process
/// environment (docs/openclaw-routing.md 1.1).
pub(crate) struct Layered<'a> {
    pub base: &'a dyn Environment,
    /// Value and where it came from (a `.env` file's path, or `env.vars`).
    pub overlay: HashMap<String, (String, Arc<str>)>,
}

impl Environment for Layered<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.base.var(name).or_else(|| {
            self.overlay
                .get(name)
                .map(|(v, _)| v)
                .filter(|v| !v.is_empty())
                .cloned()
        })
    }

    fn offline(&self) -> bool {
        self.base.offline()
    }

    fn origin(&self, name: &str) -> String {
        match (self.base.var(name), self.overlay.get(name)) {
            (None, Some((_, origin))) => origin.to_string(),
            _ => self.base.origin(name),
        }
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.base.home_dir()
    }

    fn current_dir(&self) -> Option<PathBuf> {
        self.base.current_dir()
    }
}

/// Expands a leading `~` to the home directory, as OpenClaw does for workspace paths.
pub fn expand_home(path: &str, env: &dyn Environment) -> PathBuf {
    if path == "~" {
        return env.home_dir().unwrap_or_else(|| PathBuf::from(path));
    }
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = env.home_dir()
    {
        return home.join(rest);
    }
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layered_never_overrides_the_base() {
        let base = MapEnv::new().with_var("A", "from-process");
        let layered = Layered {
            base: &base,
            overlay: HashMap::from([
                (
                    "A".to_owned(),
                    ("from-file".to_owned(), Arc::from("./.env")),
                ),
                (
                    "B".to_owned(),
                    ("from-file".to_owned(), Arc::from("./.env")),
                ),
            ]),
        };
        assert_eq!(layered.var("A").as_deref(), Some("from-process"));
        assert_eq!(layered.var("B").as_deref(), Some("from-file"));
        assert_eq!(layered.var("C"), None);
        assert_eq!(layered.origin("A"), "the environment");
        assert_eq!(layered.origin("B"), "./.env");
    }

    #[test]
    fn tilde_expands_to_home() {
        let env = MapEnv::new().with_home("/home/admin");
        assert_eq!(
            expand_home("~/.openclaw/workspace-bot1", &env),
            PathBuf::from("/home/admin/.openclaw/workspace-bot1")
        );
        assert_eq!(expand_home("/abs", &env), PathBuf::from("/abs"));
    }
}
