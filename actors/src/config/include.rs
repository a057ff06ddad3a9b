//! Reading JSON5 files and resolving `$include` (docs/openclaw-routing.md 1.3).
//!
//! `"$include": "./file.json5"` or `"$include": ["./a.json5", "./b.json5"]` may appear in any
//! object. A single file replaces the object; several files are deep-merged in order (objects
//! recursively, arrays concatenated, later scalars win); sibling keys are merged on top.
//! Includes resolve relative to the including file, must stay inside the main config's folder
//! (or a folder in `OPENCLAW_INCLUDE_ROOTS`), nest at most ten deep and never form a cycle.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::environment::Environment;
use super::issue::{ConfigPath, Diagnostics};

/// How deep includes may nest (OpenClaw's `MAX_INCLUDE_DEPTH`).
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// The largest file the loader reads, main file or include (OpenClaw's limit).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// The key that pulls other files in.
const INCLUDE_KEY: &str = "$include";

/// The most bytes all includes together may read, repeats counted. A file listed many times
/// at every level of nesting multiplies: ten levels of ten copies of one small file would
/// expand a kilobyte of config into gigabytes.
pub const MAX_EXPANDED_BYTES: u64 = 8 * 1024 * 1024;

/// The most include reads in one load (for the same reason, with tiny files).
pub const MAX_INCLUDE_READS: usize = 1000;

/// Reads and parses one JSON5 file. Problems are reported at `at` (the key holding the
/// `$include`, or the root for the main file).
pub(crate) fn read_json5(file: &Path, at: &ConfigPath, diags: &mut Diagnostics) -> Option<Value> {
    let text = read_source(file, at, diags)?;
    match super::nesting::parse_json5(&text) {
        Ok(value) => {
            // The main file always counts as holding secrets; an include when it has a key
            // that usually holds one.
            if at.is_root() || holds_secret_keys(&value) {
                diags.sources.holds_secrets(file);
            }
            Some(value)
        }
        Err(e) => {
            diags.error(
                at.clone(),
                format!("JSON5 parse failed in {}: {e}", file.display()),
            );
            None
        }
    }
}

/// Keys whose values are credentials in openclaw.json.
const SECRET_KEYS: &[&str] = &[
    "apiKey",
    "clientSecret",
    "headers",
    "password",
    "secret",
    "token",
    "webhookToken",
];

fn holds_secret_keys(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| SECRET_KEYS.contains(&k.as_str()) || holds_secret_keys(v)),
        Value::Array(items) => items.iter().any(holds_secret_keys),
        _ => false,
    }
}

/// Reads a config source: a regular file (a FIFO or a device would block the load or never
/// end) of at most `MAX_FILE_BYTES`, counted into the load's fingerprint.
fn read_source(file: &Path, at: &ConfigPath, diags: &mut Diagnostics) -> Option<String> {
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) => {
            diags.error(at.clone(), format!("cannot read {}: {e}", file.display()));
            return None;
        }
    };
    if !meta.is_file() {
        diags.error(
            at.clone(),
            format!(
                "{} is not a regular file (a config file cannot be a FIFO, device or folder)",
                file.display()
            ),
        );
        return None;
    }
    if meta.len() > MAX_FILE_BYTES {
        diags.error(
            at.clone(),
            format!(
                "{} is {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
                file.display(),
                meta.len()
            ),
        );
        return None;
    }
    // `take` holds the limit even if the file grows between the check and the read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read = std::fs::File::open(file).and_then(|f| {
        std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_FILE_BYTES), &mut bytes)
    });
    if let Err(e) = read {
        diags.error(at.clone(), format!("cannot read {}: {e}", file.display()));
        return None;
    }
    diags.sources.add(file, &bytes);
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(_) => {
            diags.error(at.clone(), format!("{} is not UTF-8 text", file.display()));
            None
        }
    }
}

/// Resolves every `$include` in a document that was read from `file`.
pub(crate) fn resolve_includes(
    value: Value,
    file: &Path,
    env: &dyn Environment,
    diags: &mut Diagnostics,
) -> Value {
    let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let mut roots = vec![
        canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
    ];
    if let Some(extra) = env.var("OPENCLAW_INCLUDE_ROOTS") {
        roots.extend(std::env::split_paths(&extra).filter_map(|p| std::fs::canonicalize(p).ok()));
    }
    let resolver = Resolver {
        roots,
        diags,
        expanded_bytes: 0,
        reads: 0,
        over_budget: false,
    };
    resolver.resolve_file_value(value, &ConfigPath::root(), &[canonical])
}

struct Resolver<'d> {
    /// Folders includes must stay inside (canonical).
    roots: Vec<PathBuf>,
    diags: &'d mut Diagnostics,
    /// Bytes read by includes so far, repeats counted (`MAX_EXPANDED_BYTES`).
    expanded_bytes: u64,
    /// Include reads so far (`MAX_INCLUDE_READS`).
    reads: usize,
    /// The budget ran out (and was reported).
    over_budget: bool,
}

impl Resolver<'_> {
    /// Resolves includes in a value that came from the last file of `chain`.
    fn resolve_file_value(mut self, value: Value, at: &ConfigPath, chain: &[PathBuf]) -> Value {
        self.resolve(value, at, chain)
    }

    fn resolve(&mut self, value: Value, at: &ConfigPath, chain: &[PathBuf]) -> Value {
        match value {
            Value::Object(map) => self.resolve_object(map, at, chain),
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| self.resolve(v, &at.index(i), chain))
                    .collect(),
            ),
            other => other,
        }
    }

    fn resolve_object(
        &mut self,
        mut map: Map<String, Value>,
        at: &ConfigPath,
        chain: &[PathBuf],
    ) -> Value {
        let include = map.shift_remove(INCLUDE_KEY);
        let siblings: Map<String, Value> = map
            .into_iter()
            .map(|(k, v)| {
                let resolved = self.resolve(v, &at.key(&k), chain);
                (k, resolved)
            })
            .collect();
        let Some(include) = include else {
            return Value::Object(siblings);
        };
        let include_path = at.key(INCLUDE_KEY);
        let included = match include {
            Value::String(rel) => self.load(&rel, &include_path, at, chain),
            Value::Array(items) => {
                let mut merged: Option<Value> = None;
                for (i, item) in items.into_iter().enumerate() {
                    let Value::String(rel) = item else {
                        self.diags.error(
                            include_path.index(i),
                            "an include must be a file path (string)",
                        );
                        continue;
                    };
                    if let Some(v) = self.load(&rel, &include_path.index(i), at, chain) {
                        merged = Some(match merged {
                            None => v,
                            Some(base) => deep_merge(base, v),
                        });
                    }
                }
                merged
            }
            _ => {
                self.diags.error(
                    include_path,
                    "$include must be a file path or a list of file paths",
                );
                None
            }
        };
        let Some(included) = included else {
            return Value::Object(siblings);
        };
        if siblings.is_empty() {
            return included;
        }
        if !included.is_object() {
            self.diags.error(
                at.key(INCLUDE_KEY),
                "the included content must be an object when sibling keys sit next to $include",
            );
            return Value::Object(siblings);
        }
        deep_merge(included, Value::Object(siblings))
    }

    /// Loads one included file, named `rel` relative to the last file in `chain`.
    /// `report_at` is where problems are reported; `content_at` is where the content lands.
    fn load(
        &mut self,
        rel: &str,
        report_at: &ConfigPath,
        content_at: &ConfigPath,
        chain: &[PathBuf],
    ) -> Option<Value> {
        let including = chain.last()?;
        if chain.len() > MAX_INCLUDE_DEPTH {
            self.diags.error(
                report_at.clone(),
                format!(
                    "includes nest deeper than {MAX_INCLUDE_DEPTH} (chain: {})",
                    show_chain(chain)
                ),
            );
            return None;
        }
        let base = including.parent().unwrap_or_else(|| Path::new("/"));
        let target = base.join(rel);
        let canonical = match std::fs::canonicalize(&target) {
            Ok(c) => c,
            Err(e) => {
                self.diags.error(
                    report_at.clone(),
                    format!(
                        "cannot include \"{rel}\" ({}): {e} (included from {})",
                        target.display(),
                        show_chain(chain)
                    ),
                );
                return None;
            }
        };
        // Symlinks are resolved by canonicalize, so this also catches a link that points out.
        if !self.roots.iter().any(|root| canonical.starts_with(root)) {
            self.diags.error(
                report_at.clone(),
                format!(
                    "\"{rel}\" resolves to {}, outside the config folder {} (chain: {} -> {})",
                    canonical.display(),
                    self.roots[0].display(),
                    show_chain(chain),
                    file_name(&canonical)
                ),
            );
            return None;
        }
        if chain.contains(&canonical) {
            let mut cycle = chain.to_vec();
            cycle.push(canonical);
            self.diags.error(
                report_at.clone(),
                format!("circular include detected: {}", show_chain(&cycle)),
            );
            return None;
        }
        self.reads += 1;
        self.expanded_bytes += std::fs::metadata(&canonical).map(|m| m.len()).unwrap_or(0);
        if self.reads > MAX_INCLUDE_READS || self.expanded_bytes > MAX_EXPANDED_BYTES {
            // Reported once: every later include of the load would say the same.
            if !std::mem::replace(&mut self.over_budget, true) {
                self.diags.error(
                    report_at.clone(),
                    format!(
                        "includes expand past {MAX_INCLUDE_READS} files or {} MiB (the same file included many times at many levels?); chain: {}",
                        MAX_EXPANDED_BYTES / (1024 * 1024),
                        show_chain(chain)
                    ),
                );
            }
            return None;
        }
        let value = read_json5(&canonical, report_at, self.diags)?;
        let mut next = chain.to_vec();
        next.push(canonical);
        Some(self.resolve(value, content_at, &next))
    }
}

/// Deep merge as OpenClaw does it: objects merge key by key, arrays concatenate, anything else
/// is replaced by the later value.
pub(crate) fn deep_merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = match a.shift_remove(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a)
        }
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (_, over) => over,
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn show_chain(chain: &[PathBuf]) -> String {
    chain
        .iter()
        .map(|p| file_name(p))
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;
    use serde_json::json;

    fn load(dir: &Path, main: &str) -> (Option<Value>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let file = dir.join(main);
        let value = read_json5(&file, &ConfigPath::root(), &mut diags)
            .map(|v| resolve_includes(v, &file, &MapEnv::new(), &mut diags));
        (value, diags)
    }

    #[test]
    fn merge_concatenates_arrays_and_recurses_into_objects() {
        let merged = deep_merge(
            json!({"a": {"x": 1, "y": [1]}, "s": "old"}),
            json!({"a": {"z": 2, "y": [2]}, "s": "new"}),
        );
        assert_eq!(
            merged,
            json!({"a": {"x": 1, "y": [1, 2], "z": 2}, "s": "new"})
        );
    }

    #[test]
    fn single_include_replaces_and_siblings_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("agents.json5"),
            "{ list: [{id: 'a'}], defaults: { maxConcurrent: 2 } }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ agents: { $include: './agents.json5', defaults: { maxConcurrent: 8 } } }",
        )
        .unwrap();
        let (v, d) = load(dir.path(), "main.json5");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(
            v.unwrap(),
            json!({"agents": {"list": [{"id": "a"}], "defaults": {"maxConcurrent": 8}}})
        );
    }

    #[test]
    fn array_include_deep_merges_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json5"), "{ bindings: [1], x: 'a' }").unwrap();
        std::fs::write(dir.path().join("b.json5"), "{ bindings: [2], x: 'b' }").unwrap();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ $include: ['a.json5', 'b.json5'] }",
        )
        .unwrap();
        let (v, d) = load(dir.path(), "main.json5");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(v.unwrap(), json!({"bindings": [1, 2], "x": "b"}));
    }

    #[test]
    fn nested_include_resolves_relative_to_the_including_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/inner.json5"), "{ v: 1 }").unwrap();
        std::fs::write(
            dir.path().join("sub/outer.json5"),
            "{ inner: { $include: 'inner.json5' } }",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ o: { $include: 'sub/outer.json5' } }",
        )
        .unwrap();
        let (v, d) = load(dir.path(), "main.json5");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(v.unwrap(), json!({"o": {"inner": {"v": 1}}}));
    }

    #[test]
    fn cycle_is_an_error_naming_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json5"), "{ b: { $include: 'b.json5' } }").unwrap();
        std::fs::write(dir.path().join("b.json5"), "{ a: { $include: 'a.json5' } }").unwrap();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ x: { $include: 'a.json5' } }",
        )
        .unwrap();
        let (_, d) = load(dir.path(), "main.json5");
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(
            d.errors[0].to_string(),
            "x.b.a.$include: circular include detected: main.json5 -> a.json5 -> b.json5 -> a.json5"
        );
    }

    #[test]
    fn escape_outside_the_config_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("cfg")).unwrap();
        std::fs::write(dir.path().join("secret.json5"), "{}").unwrap();
        std::fs::write(
            dir.path().join("cfg/main.json5"),
            "{ agents: { $include: '../secret.json5' } }",
        )
        .unwrap();
        let (_, d) = load(&dir.path().join("cfg"), "main.json5");
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].path.as_str(), "agents.$include");
        assert!(
            d.errors[0].message.contains("outside the config folder"),
            "{}",
            d.errors[0]
        );
        assert!(d.errors[0].message.contains("main.json5 -> secret.json5"));
    }

    #[test]
    fn depth_over_ten_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..12 {
            std::fs::write(
                dir.path().join(format!("f{i}.json5")),
                format!("{{ n: {{ $include: 'f{}.json5' }} }}", i + 1),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("f12.json5"), "{}").unwrap();
        let (_, d) = load(dir.path(), "f0.json5");
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert!(d.errors[0].message.contains("nest deeper than 10"));
    }

    #[test]
    fn missing_include_and_parse_error_are_reported_at_their_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json5"), "{ a: , }").unwrap();
        std::fs::write(
            dir.path().join("main.json5"),
            "{ p: { $include: 'missing.json5' }, q: { $include: ['bad.json5'] } }",
        )
        .unwrap();
        let (_, d) = load(dir.path(), "main.json5");
        let paths: Vec<_> = d.errors.iter().map(|e| e.path.to_string()).collect();
        assert_eq!(paths, vec!["p.$include", "q.$include.0"]);
        assert!(d.errors[1].message.contains("JSON5 parse failed"));
        assert!(d.errors[1].message.contains("line 1 column"));
    }

    /// Found by probing: 924 bytes of config (the same file listed many times at each of ten
    /// levels) drove a load to 3.9 GB. The expansion is now bounded and reported once.
    #[test]
    fn include_fan_out_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            let next = format!("'f{}.json5'", i + 1);
            let list = vec![next; 10].join(", ");
            std::fs::write(
                dir.path().join(format!("f{i}.json5")),
                format!("{{ a: [1], $include: [{list}] }}"),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("f10.json5"), "{ a: [1] }").unwrap();
        let started = std::time::Instant::now();
        let (_, d) = load(dir.path(), "f0.json5");
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert!(
            d.errors[0].message.contains("expand past"),
            "{}",
            d.errors[0]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    /// Found by probing: a FIFO named in `$include` blocked the load for ever.
    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json5");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this machine
        }
        std::fs::write(
            dir.path().join("main.json5"),
            "{ p: { $include: 'pipe.json5' } }",
        )
        .unwrap();
        let (_, d) = load(dir.path(), "main.json5");
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert!(
            d.errors[0].message.contains("not a regular file"),
            "{}",
            d.errors[0]
        );
        let (_, d) = load(dir.path(), "pipe.json5");
        assert!(d.errors[0].message.contains("not a regular file"));
    }
}
