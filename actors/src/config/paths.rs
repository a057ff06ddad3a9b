//! Where openclaw.json and the state directory live (docs/openclaw-routing.md 1.1).

use std::path::PathBuf;

use super::environment::Environment;

/// The config file name OpenClaw uses.
pub const CONFIG_FILE_NAME: &str = "openclaw.json";

/// The state directory: `$OPENCLAW_STATE_DIR`, else `~/.openclaw`.
pub fn state_dir(env: &dyn Environment) -> PathBuf {
    if let Some(dir) = env.var("OPENCLAW_STATE_DIR") {
        return PathBuf::from(dir);
    }
    env.home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".openclaw")
}

/// dingclaw's own files inside the state directory, kept apart from OpenClaw's.
pub fn dingclaw_dir(env: &dyn Environment) -> PathBuf {
    state_dir(env).join("dingclaw")
}

/// The places a config file is looked for, in order, when `--config` is not given:
/// `$OPENCLAW_CONFIG_PATH`, `./openclaw.json`, `<stateDir>/openclaw.json`.
pub fn config_candidates(env: &dyn Environment) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = env.var("OPENCLAW_CONFIG_PATH") {
        // An explicit variable is the only candidate: silently falling back to another file
        // would load a config the operator did not ask for.
        out.push(PathBuf::from(p));
        return out;
    }
    if let Some(cwd) = env.current_dir() {
        out.push(cwd.join(CONFIG_FILE_NAME));
    }
    out.push(state_dir(env).join(CONFIG_FILE_NAME));
    out
}

/// The config file to load: the explicit path if given, else the first candidate that exists.
/// Returns every path tried when none exists.
pub fn resolve_config_path(
    explicit: Option<PathBuf>,
    env: &dyn Environment,
) -> Result<PathBuf, Vec<PathBuf>> {
    if let Some(path) = explicit {
        return if path.exists() {
            Ok(path)
        } else {
            Err(vec![path])
        };
    }
    let candidates = config_candidates(env);
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .ok_or(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;

    #[test]
    fn state_dir_prefers_the_variable() {
        let env = MapEnv::new()
            .with_home("/home/u")
            .with_var("OPENCLAW_STATE_DIR", "/srv/state");
        assert_eq!(state_dir(&env), PathBuf::from("/srv/state"));
        let env = MapEnv::new().with_home("/home/u");
        assert_eq!(state_dir(&env), PathBuf::from("/home/u/.openclaw"));
        assert_eq!(
            dingclaw_dir(&env),
            PathBuf::from("/home/u/.openclaw/dingclaw")
        );
    }

    #[test]
    fn candidates_in_documented_order() {
        let env = MapEnv::new().with_home("/home/u").with_cwd("/work");
        assert_eq!(
            config_candidates(&env),
            vec![
                PathBuf::from("/work/openclaw.json"),
                PathBuf::from("/home/u/.openclaw/openclaw.json")
            ]
        );
        let env = env.with_var("OPENCLAW_CONFIG_PATH", "/etc/oc.json");
        assert_eq!(config_candidates(&env), vec![PathBuf::from("/etc/oc.json")]);
    }

    #[test]
    fn first_existing_candidate_wins() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        std::fs::write(home.join(".openclaw/openclaw.json"), "{}").unwrap();
        let env = MapEnv::new().with_home(&home).with_cwd(dir.path());
        assert_eq!(
            resolve_config_path(None, &env).unwrap(),
            home.join(".openclaw/openclaw.json")
        );
        std::fs::write(dir.path().join("openclaw.json"), "{}").unwrap();
        assert_eq!(
            resolve_config_path(None, &env).unwrap(),
            dir.path().join("openclaw.json")
        );
        let missing = dir.path().join("nope.json");
        assert_eq!(
            resolve_config_path(Some(missing.clone()), &env).unwrap_err(),
            vec![missing]
        );
    }
}
