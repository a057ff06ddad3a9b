//! URLs with credentials in their query (`access_token`, `sign`, `session`, `ticket`) are
//! printed with those values replaced by `***`.

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 5] = ["access_token", "sign", "session", "ticket", "token"];

/// The URL with credential values hidden, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k) => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_credentials_only() {
        assert_eq!(
            redact_url(
                "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x%2B"
            ),
            "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"
        );
        assert_eq!(redact_url("https://a/b"), "https://a/b");
        assert_eq!(
            redact_url("http://127.0.0.1:1/robot/sendBySession?session=s1"),
            "http://127.0.0.1:1/robot/sendBySession?session=***"
        );
    }
}
