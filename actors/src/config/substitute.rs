//! `${VAR}` substitution (docs/openclaw-routing.md 1.4).
//!
//! Only upper-case names are recognised (`^[A-Z_][A-Z0-9_]*$`), anywhere inside a string value;
//! `$${VAR}` is an escape for the literal text `${VAR}`. A missing or empty variable keeps the
//! placeholder and produces a warning naming the dotted path. The loader remembers which paths
//! still hold a placeholder, so that an account or provider whose secret is unresolved can be
//! refused when it would start instead of connecting with the literal text `${...}`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, LazyLock};

use regex::{Captures, Regex};
use serde_json::Value;

use super::environment::{Environment, Layered};
use super::issue::{ConfigPath, Diagnostics};

/// `$${NAME}` (escape) or `${NAME}` (placeholder).
// The pattern is a literal that compiles; the tests below exercise it.
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$?\$\{([A-Z_][A-Z0-9_]*)\}").expect("literal regex"));

/// Paths whose value still contains an unresolved `${NAME}`, with the variable names.
pub type Unresolved = BTreeMap<ConfigPath, Vec<String>>;

/// Builds the variable source used for substitution: the process environment, then `.env` in
/// the working directory, then `<stateDir>/.env`, then the config's own `env.vars` (and plain
/// string entries directly under `env`). None of the later sources overrides an earlier one.
///
/// A `.env` file that other users may write is skipped with a warning: whoever can write it
/// could set the operator token or an API key.
pub(crate) fn variable_source<'a>(
    doc: &Value,
    env: &'a dyn Environment,
    state_dir: &Path,
    diags: &mut Diagnostics,
) -> Layered<'a> {
    let mut overlay: HashMap<String, (String, Arc<str>)> = HashMap::new();
    let mut add = |k: String, v: String, origin: &Arc<str>| {
        overlay.entry(k).or_insert_with(|| (v, Arc::clone(origin)));
    };
    let dotenv_files = env
        .current_dir()
        .map(|d| d.join(".env"))
        .into_iter()
        .chain(std::iter::once(state_dir.join(".env")));
    for file in dotenv_files {
        let Some(bytes) = read_dotenv(&file, diags) else {
            continue;
        };
        let origin: Arc<str> = Arc::from(file.display().to_string());
        for item in dotenvy::from_read_iter(bytes.as_slice()) {
            match item {
                Ok((k, v)) => add(k, v, &origin),
                Err(e) => {
                    diags.warn(
                        ConfigPath::root(),
                        format!("skipping a line of {}: {e}", file.display()),
                    );
                }
            }
        }
    }
    if let Some(Value::Object(section)) = doc.get("env") {
        let origin: Arc<str> = Arc::from("env.vars in the config");
        for (k, v) in section {
            match (k.as_str(), v) {
                ("vars", Value::Object(vars)) => {
                    for (name, value) in vars {
                        if let Value::String(s) = value {
                            add(name.clone(), s.clone(), &origin);
                        }
                    }
                }
                ("vars" | "shellEnv", _) => {}
                (name, Value::String(s)) => add(name.to_owned(), s.clone(), &origin),
                _ => {}
            }
        }
    }
    Layered { base: env, overlay }
}

/// The bytes of a `.env` file (counted into the load's fingerprint), or `None` when there is
/// none or it may not be trusted.
fn read_dotenv(file: &Path, diags: &mut Diagnostics) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(file).ok().filter(|m| m.is_file())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            diags.warn(
                ConfigPath::root(),
                format!(
                    "{} is writable by other users (mode {mode:03o}), so its variables are not used; run `chmod 600 {}`",
                    file.display(),
                    file.display()
                ),
            );
            return None;
        }
    }
    let _ = meta;
    match std::fs::read(file) {
        Ok(bytes) => {
            diags.sources.add(file, &bytes);
            diags.sources.holds_secrets(file);
            Some(bytes)
        }
        Err(e) => {
            diags.warn(
                ConfigPath::root(),
                format!("cannot read {}: {e}", file.display()),
            );
            None
        }
    }
}

/// Replaces placeholders in every string of `value`, recording what stayed unresolved.
pub(crate) fn substitute(
    value: &mut Value,
    at: &ConfigPath,
    env: &dyn Environment,
    diags: &mut Diagnostics,
    unresolved: &mut Unresolved,
) {
    match value {
        Value::String(s) => {
            if !s.contains('$') {
                return;
            }
            let mut missing = Vec::new();
            let replaced = PLACEHOLDER.replace_all(s, |caps: &Captures<'_>| {
                let whole = &caps[0];
                let name = &caps[1];
                if whole.starts_with("$$") {
                    return format!("${{{name}}}");
                }
                match env.var(name) {
                    Some(v) => v,
                    None => {
                        missing.push(name.to_owned());
                        whole.to_owned()
                    }
                }
            });
            if let std::borrow::Cow::Owned(new) = replaced {
                *s = new;
            }
            for name in &missing {
                diags.warn(
                    at.clone(),
                    format!(
                        "missing env var \"{name}\"; the feature using this value will be unavailable"
                    ),
                );
            }
            if !missing.is_empty() {
                unresolved.insert(at.clone(), missing);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &at.index(i), env, diags, unresolved);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                substitute(v, &at.key(k), env, diags, unresolved);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;
    use serde_json::json;

    fn run(mut v: Value, env: &MapEnv) -> (Value, Diagnostics, Unresolved) {
        let mut d = Diagnostics::default();
        let mut u = Unresolved::new();
        substitute(&mut v, &ConfigPath::root(), env, &mut d, &mut u);
        (v, d, u)
    }

    #[test]
    fn replaces_inside_strings_and_keeps_escapes() {
        let env = MapEnv::new()
            .with_var("BASE", "https://x")
            .with_var("KEY", "k1");
        let (v, d, u) = run(
            json!({"a": "${BASE}/v1", "b": ["$${KEY}", "${KEY}"], "c": "${lower} $5"}),
            &env,
        );
        assert_eq!(
            v,
            json!({"a": "https://x/v1", "b": ["${KEY}", "k1"], "c": "${lower} $5"})
        );
        assert!(d.warnings.is_empty());
        assert!(u.is_empty());
    }

    #[test]
    fn missing_or_empty_variable_warns_with_path_and_keeps_placeholder() {
        let env = MapEnv::new().with_var("EMPTY", "");
        let (v, d, u) = run(
            json!({"models": {"providers": {"p": {"apiKey": "${NOPE}", "x": "${EMPTY}"}}}}),
            &env,
        );
        assert_eq!(v["models"]["providers"]["p"]["apiKey"], json!("${NOPE}"));
        let lines: Vec<_> = d.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "models.providers.p.apiKey: missing env var \"NOPE\"; the feature using this value will be unavailable",
                "models.providers.p.x: missing env var \"EMPTY\"; the feature using this value will be unavailable",
            ]
        );
        assert_eq!(
            u.get(&ConfigPath::parse("models.providers.p.apiKey")),
            Some(&vec!["NOPE".to_owned()])
        );
    }

    #[test]
    fn env_vars_from_config_fill_in_but_never_override() {
        let env = MapEnv::new().with_var("A", "process");
        let doc = json!({"env": {"vars": {"A": "config", "B": "config"}, "C": "direct"}});
        let mut d = Diagnostics::default();
        let dir = tempfile::tempdir().unwrap();
        let src = variable_source(&doc, &env, dir.path(), &mut d);
        assert_eq!(src.var("A").as_deref(), Some("process"));
        assert_eq!(src.var("B").as_deref(), Some("config"));
        assert_eq!(src.var("C").as_deref(), Some("direct"));
    }

    #[test]
    fn dotenv_in_state_dir_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "FROM_FILE=yes\n").unwrap();
        let env = MapEnv::new();
        let mut d = Diagnostics::default();
        let src = variable_source(&json!({}), &env, dir.path(), &mut d);
        assert_eq!(src.var("FROM_FILE").as_deref(), Some("yes"));
        assert_eq!(
            src.origin("FROM_FILE"),
            dir.path().join(".env").display().to_string()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dotenv_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "OPENCLAW_GATEWAY_TOKEN=planted\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let env = MapEnv::new();
        let mut d = Diagnostics::default();
        let src = variable_source(&json!({}), &env, dir.path(), &mut d);
        assert_eq!(src.var("OPENCLAW_GATEWAY_TOKEN"), None);
        let warning = d.warnings[0].to_string();
        assert!(
            warning.contains("writable by other users (mode 666)") && warning.contains("chmod 600"),
            "{warning}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut d = Diagnostics::default();
        let src = variable_source(&json!({}), &env, dir.path(), &mut d);
        assert_eq!(
            src.var("OPENCLAW_GATEWAY_TOKEN").as_deref(),
            Some("planted")
        );
    }
}
