//! Where a run's result may go. A chat message chooses the webhook, so the address is checked
//! twice (when the job is saved and before each delivery) against `cron.webhookAllowHosts`
//! (default: DingTalk's robot host only); otherwise a user could make the gateway post to any
//! address it can reach.

use super::error::CronError;
use super::job::Delivery;

/// DingTalk's custom robot host and path (docs/dingtalk-protocol.md 5).
pub const DINGTALK_ROBOT_HOST: &str = "oapi.dingtalk.com";
const DINGTALK_ROBOT_PATH: &str = "/robot/send";

/// A checked webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Webhook {
    /// A DingTalk custom robot: a markdown robot message, signed when `secret` is set. `url`
    /// is where to send it (on `cron.dingtalkWebhookBase` when that replaces DingTalk's host).
    Robot {
        /// Where to post (the robot's address, `access_token` included).
        url: String,
        /// The `SEC...` signing secret.
        secret: Option<String>,
    },
    /// Any other allowed address: OpenClaw's cron event JSON.
    Other {
        /// Where to post.
        url: String,
    },
}

/// Is `host` allowed by the list? Entries are host names; `*.example.com` allows subdomains.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| {
        a == host
            || a.strip_prefix("*.")
                .is_some_and(|suffix| host.ends_with(&format!(".{suffix}")))
    })
}

/// Checks a `webhook` delivery and says how to send it. `robot_base` replaces the scheme and
/// host of DingTalk robot URLs (the simulator, offline).
pub fn check_webhook(
    to: &str,
    secret: Option<&str>,
    allowed: &[String],
    robot_base: &str,
) -> Result<Webhook, CronError> {
    let url = url::Url::parse(to.trim())
        .map_err(|e| CronError::BadWebhook(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CronError::BadWebhook("only http(s) addresses".to_owned()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| CronError::BadWebhook("the address has no host".to_owned()))?
        .to_lowercase();
    if !host_allowed(&host, allowed) {
        return Err(CronError::HostNotAllowed {
            host,
            allowed: allowed.join(", "),
        });
    }
    if let Some(s) = secret
        && !s.starts_with("SEC")
    {
        return Err(CronError::BadWebhook(
            "a DingTalk robot signing secret starts with SEC".to_owned(),
        ));
    }
    let is_robot = host == DINGTALK_ROBOT_HOST && url.path() == DINGTALK_ROBOT_PATH;
    if !is_robot {
        return Ok(Webhook::Other { url: url.into() });
    }
    if !url
        .query_pairs()
        .any(|(k, v)| k == "access_token" && !v.is_empty())
    {
        return Err(CronError::BadWebhook(
            "a DingTalk robot address needs its access_token (copy the whole webhook address)"
                .to_owned(),
        ));
    }
    let query = url.query().unwrap_or_default();
    Ok(Webhook::Robot {
        url: format!(
            "{}{DINGTALK_ROBOT_PATH}?{query}",
            robot_base.trim_end_matches('/')
        ),
        secret: secret.map(str::to_owned),
    })
}

/// Checks a delivery as a whole (nothing to check for `none` and `announce`).
pub fn check_delivery(
    delivery: &Delivery,
    allowed: &[String],
    robot_base: &str,
) -> Result<Option<Webhook>, CronError> {
    match delivery {
        Delivery::Webhook { to, secret } => {
            check_webhook(to, secret.as_deref(), allowed, robot_base).map(Some)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["oapi.dingtalk.com".to_owned()]
    }

    #[test]
    fn dingtalk_robot_addresses_are_accepted_and_can_be_rebased() {
        let w = check_webhook(
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
            Some("SECxyz"),
            &allowed(),
            "https://oapi.dingtalk.com",
        )
        .unwrap();
        assert_eq!(
            w,
            Webhook::Robot {
                url: "https://oapi.dingtalk.com/robot/send?access_token=abc".into(),
                secret: Some("SECxyz".into())
            }
        );
        let w = check_webhook(
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
            None,
            &allowed(),
            "http://127.0.0.1:18790/",
        )
        .unwrap();
        assert_eq!(
            w,
            Webhook::Robot {
                url: "http://127.0.0.1:18790/robot/send?access_token=abc".into(),
                secret: None
            }
        );
    }

    #[test]
    fn other_hosts_are_refused_unless_allowed() {
        for bad in [
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080/admin",
            // Loopback and private ranges in every spelling the URL parser normalises.
            "http://localhost:8080/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.0.0.8/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://[fd00::1]/",
            "http://oapi.dingtalk.com@127.0.0.1/robot/send?access_token=x",
            "https://oapi.dingtalk.com.evil.example/robot/send?access_token=x",
        ] {
            let err = check_webhook(bad, None, &allowed(), "https://oapi.dingtalk.com");
            assert!(
                matches!(err, Err(CronError::HostNotAllowed { .. })),
                "{bad}: {err:?}"
            );
        }
        let wider = vec!["oapi.dingtalk.com".to_owned(), "*.example.com".to_owned()];
        assert_eq!(
            check_webhook("https://hooks.example.com/x", None, &wider, "").unwrap(),
            Webhook::Other {
                url: "https://hooks.example.com/x".into()
            }
        );
        assert!(check_webhook("ftp://oapi.dingtalk.com/x", None, &allowed(), "").is_err());
        assert!(
            check_webhook("https://oapi.dingtalk.com/robot/send", None, &allowed(), "").is_err()
        );
        assert!(
            check_webhook(
                "https://oapi.dingtalk.com/robot/send?access_token=a",
                Some("nosec"),
                &allowed(),
                ""
            )
            .is_err()
        );
    }
}
