//! Whether other users of the machine can read what dingclaw keeps: the config file (client
//! secrets, API keys, webhook tokens) and the state directory (transcripts, the generated
//! operator token). Checked at every start and by `config check`; a warning, not an error,
//! because the operator may have reasons (a group-readable config in a container).

use std::fmt;
use std::path::{Path, PathBuf};

use super::Config;

/// What is exposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposed {
    /// The config file itself.
    ConfigFile,
    /// An included config file or a `.env` file that holds credentials.
    SecretFile,
    /// The state folder (sessions, tokens, the store).
    StateDir,
}

/// A file or folder that users other than its owner can get into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exposure {
    /// What it is.
    pub what: Exposed,
    /// Where.
    pub path: PathBuf,
    /// The permission bits (`0o777` part of the mode).
    pub mode: u32,
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, fix) = match self.what {
            Exposed::ConfigFile => ("the config file, which holds secrets,", "chmod 600"),
            Exposed::SecretFile => ("a file the config reads, which holds secrets,", "chmod 600"),
            Exposed::StateDir => (
                "the state directory (transcripts, the operator token)",
                "chmod 700",
            ),
        };
        write!(
            f,
            "{}: {what} is open to other users (mode {:03o}); run `{fix} {}`",
            self.path.display(),
            self.mode,
            self.path.display()
        )
    }
}

/// The config's source file, the other files it read that hold secrets (includes, `.env`)
/// and its state directory, where group or others have any access. Paths that do not exist
/// yet are fine: dingclaw creates its folders for its owner only.
pub fn exposures(config: &Config) -> Vec<Exposure> {
    let mut out = Vec::new();
    if let Some(e) = config
        .source
        .as_deref()
        .and_then(|p| exposure(Exposed::ConfigFile, p))
    {
        out.push(e);
    }
    let main = config
        .source
        .as_deref()
        .and_then(|p| std::fs::canonicalize(p).ok());
    for file in &config.secret_files {
        let same_as_main = config.source.as_deref() == Some(file.as_path())
            || main.as_deref() == Some(file.as_path());
        if !same_as_main && let Some(e) = exposure(Exposed::SecretFile, file) {
            out.push(e);
        }
    }
    if let Some(e) = exposure(Exposed::StateDir, &config.state_dir) {
        out.push(e);
    }
    out
}

#[cfg(unix)]
fn exposure(what: Exposed, path: &Path) -> Option<Exposure> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| Exposure {
        what,
        path: path.to_path_buf(),
        mode,
    })
}

#[cfg(not(unix))]
fn exposure(_: Exposed, _: &Path) -> Option<Exposure> {
    None
}

/// Creates `dir` and its missing parents for the owner only (0700), as the state directory's
/// folders should be.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::config::{MapEnv, load_file};

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_readable_config_and_an_open_state_dir_are_reported_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        create_private_dir(&state.join("dingclaw")).unwrap();
        let file = dir.path().join("openclaw.json");
        std::fs::write(&file, "{}").unwrap();
        chmod(&file, 0o600);
        let env = MapEnv::new().with_var("OPENCLAW_STATE_DIR", state.to_str().unwrap());
        let config = load_file(&file, &env).unwrap().config;
        assert_eq!(exposures(&config), vec![], "0600 file, 0700 folders");

        chmod(&file, 0o644);
        chmod(&state, 0o755);
        let found = exposures(&config);
        assert_eq!(
            found.iter().map(|e| (e.what, e.mode)).collect::<Vec<_>>(),
            vec![(Exposed::ConfigFile, 0o644), (Exposed::StateDir, 0o755)]
        );
        let text = found[0].to_string();
        assert!(
            text.contains("mode 644") && text.contains("chmod 600"),
            "{text}"
        );
        assert!(found[1].to_string().contains("chmod 700"));
    }

    #[test]
    fn included_files_with_secrets_are_checked_too() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        create_private_dir(&state).unwrap();
        let file = dir.path().join("openclaw.json");
        std::fs::write(
            &file,
            "{ agents: { $include: './agents.json5' }, models: { $include: './keys.json5' } }",
        )
        .unwrap();
        std::fs::write(dir.path().join("agents.json5"), "{ list: [{ id: 'a' }] }").unwrap();
        std::fs::write(
            dir.path().join("keys.json5"),
            "{ providers: { p: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'k-123456' } } }",
        )
        .unwrap();
        chmod(&file, 0o600);
        chmod(&dir.path().join("agents.json5"), 0o644);
        chmod(&dir.path().join("keys.json5"), 0o644);
        let env = MapEnv::new().with_var("OPENCLAW_STATE_DIR", state.to_str().unwrap());
        let config = load_file(&file, &env).unwrap().config;
        let found = exposures(&config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].what, Exposed::SecretFile);
        assert!(found[0].path.ends_with("keys.json5"));
    }

    #[test]
    fn a_missing_state_dir_is_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("openclaw.json");
        std::fs::write(&file, "{}").unwrap();
        chmod(&file, 0o600);
        let env = MapEnv::new().with_var(
            "OPENCLAW_STATE_DIR",
            dir.path().join("nope").to_str().unwrap(),
        );
        assert!(exposures(&load_file(&file, &env).unwrap().config).is_empty());
    }
}
