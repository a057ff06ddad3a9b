//! Strict deserialization that reports every error, not just the first.
//!
//! The section types use `#[serde(deny_unknown_fields)]` and make every field optional (what is
//! required is checked later, after account inheritance). serde stops at the first error, so
//! this module deserializes, records the error with its path, removes the offending value from
//! a scratch copy and tries again, until the value deserializes or nothing more can be removed.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::issue::{ConfigPath, Issue};

/// Upper bound on errors reported for one value, so a hopeless file cannot loop for long.
const MAX_ERRORS: usize = 200;

/// Deserializes `value` (found at `at`) into `T`, appending every problem to `errors`.
/// Returns the value with the offending parts left out, so later checks can still run.
pub(crate) fn deserialize_all<T: DeserializeOwned>(
    value: &Value,
    at: &ConfigPath,
    errors: &mut Vec<Issue>,
) -> Option<T> {
    let mut scratch = value.clone();
    for _ in 0..MAX_ERRORS {
        let err = match serde_path_to_error::deserialize::<_, T>(&scratch) {
            Ok(t) => return Some(t),
            Err(e) => e,
        };
        let segments: Vec<Segment> = err.path().iter().cloned().collect();
        let mut path = at.clone();
        for s in &segments {
            path = match s {
                Segment::Seq { index } => path.index(*index),
                Segment::Map { key } | Segment::Enum { variant: key } => path.key(key),
                Segment::Unknown => path.key("?"),
            };
        }
        errors.push(Issue::new(path, humanize(&err.into_inner().to_string())));
        if !remove(&mut scratch, &segments) {
            return None;
        }
    }
    None
}

/// Removes the value at `segments`. An array element is removed together with its whole array,
/// because removing just the element would shift the indices of later errors.
fn remove(value: &mut Value, segments: &[Segment]) -> bool {
    let mut end = segments.len();
    while end > 0 && matches!(segments[end - 1], Segment::Seq { .. }) {
        end -= 1;
    }
    let Some((Segment::Map { key }, parents)) = segments[..end].split_last() else {
        return false;
    };
    let mut cur = value;
    for s in parents {
        let child = match s {
            Segment::Map { key } => cur.get_mut(key.as_str()),
            Segment::Seq { index } => cur.get_mut(*index),
            _ => None,
        };
        match child {
            Some(c) => cur = c,
            None => return false,
        }
    }
    cur.as_object_mut()
        .is_some_and(|m| m.shift_remove(key).is_some())
}

/// Rewrites serde's wording into the plainer form used in every other message: keys in double
/// quotes, and "unknown key" with a suggestion instead of a long list of alternatives.
fn humanize(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match suggest(key, &candidates) {
            Some(best) => format!("unknown key \"{key}\" (did you mean \"{best}\"?)"),
            None => format!("unknown key \"{key}\""),
        };
    }
    BACKTICKED
        .replace_all(message, |c: &regex::Captures<'_>| {
            let inner = &c[1];
            if inner.parse::<f64>().is_ok() {
                inner.to_owned()
            } else {
                format!("\"{inner}\"")
            }
        })
        .into_owned()
}

/// serde quotes names and values in backticks.
static BACKTICKED: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new("`([^`]*)`").expect("literal regex"));

/// The closest candidate to `key`, if one is close enough to be a likely typo.
pub(crate) fn suggest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&key.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Account {
        client_id: Option<String>,
        enabled: Option<bool>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Section {
        accounts: Option<indexmap::IndexMap<String, Account>>,
        tags: Option<Vec<String>>,
        port: Option<u16>,
    }

    #[test]
    fn reports_every_error_with_its_path() {
        let v = json!({
            "accounts": {"b1": {"clientID": "x", "enabled": "yes"}, "b2": {"enabled": true}},
            "tags": ["a", 3],
            "port": 70000,
        });
        let mut errors = Vec::new();
        let out: Option<Section> = deserialize_all(&v, &ConfigPath::parse("s"), &mut errors);
        let lines: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "s.accounts.b1.clientID: unknown key \"clientID\" (did you mean \"clientId\"?)",
                "s.accounts.b1.enabled: invalid type: string \"yes\", expected a boolean",
                "s.tags.1: invalid type: integer 3, expected a string",
                "s.port: invalid value: integer 70000, expected u16",
            ]
        );
        let out = out.unwrap();
        assert!(out.accounts.unwrap().contains_key("b2"));
        assert!(out.tags.is_none());
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_one_error() {
        let mut errors = Vec::new();
        let out: Option<Section> =
            deserialize_all(&json!("nope"), &ConfigPath::root(), &mut errors);
        assert!(out.is_none());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path.to_string(), "<root>");
    }

    #[test]
    fn suggestions_only_for_close_names() {
        assert_eq!(suggest("agnets", &["agents", "bindings"]), Some("agents"));
        assert_eq!(suggest("zzz", &["agents", "bindings"]), None);
    }
}
