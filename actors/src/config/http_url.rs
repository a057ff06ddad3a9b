//! Base URLs in the config (DingTalk endpoints, provider `baseUrl`s): parsed with `url`, so a
//! typo is reported at load time instead of as a connection error on the first message.

/// Trims and drops trailing slashes (paths are appended to it), then checks it is an absolute
/// http(s) URL with a host. The error is the message for the config diagnostic.
pub fn normalize_base_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    match url::Url::parse(trimmed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if u.query().is_some() || u.fragment().is_some() {
                Err(format!("\"{trimmed}\" must not have a query or fragment"))
            } else {
                Ok(trimmed.to_owned())
            }
        }
        Ok(_) => Err(format!("\"{trimmed}\" is not an http(s) URL")),
        Err(e) => Err(format!("\"{trimmed}\" is not a URL: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        assert_eq!(
            normalize_base_url(" https://api.deepseek.com/v1/ ").unwrap(),
            "https://api.deepseek.com/v1"
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(
            normalize_base_url("api.deepseek.com")
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(
            normalize_base_url("ftp://x.example")
                .unwrap_err()
                .contains("not an http(s) URL")
        );
        assert!(normalize_base_url("https://x.example/v1?key=1").is_err());
        assert!(normalize_base_url("https://").is_err());
    }
}
