//! Errors of the DingTalk client. Messages name the account and the API, never a URL with a
//! token in it.

use serde_json::Value;

/// What went wrong talking to DingTalk.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DingTalkError {
    /// connections/open or accessToken refused the app's credentials (400/401/403): wrong
    /// Client ID or Secret, app not published, Stream mode or the robot capability not enabled.
    #[error("account {account}: DingTalk refused the credentials (HTTP {status}): {message}")]
    AuthRejected {
        /// The account's id in the config.
        account: String,
        /// DingTalk's HTTP status.
        status: u16,
        /// DingTalk's message (never the secret).
        message: String,
    },
    /// An API answered with an HTTP error.
    #[error("{api}: HTTP {status}{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Http {
        /// Which API (`connections/open`, `batchSend`...).
        api: &'static str,
        /// The HTTP status.
        status: u16,
        /// DingTalk's error code (`Forbidden.AccessDenied.QpsLimitForApi`...).
        code: Option<String>,
        /// DingTalk's message.
        message: String,
    },
    /// An API answered 200 with a nonzero `errcode`.
    #[error("{api}: errcode {errcode}: {errmsg}")]
    Rejected {
        /// Which API.
        api: &'static str,
        /// DingTalk's `errcode`.
        errcode: i64,
        /// DingTalk's `errmsg`.
        errmsg: String,
    },
    /// Not sent: in a cluster, this instance no longer holds the session's lease (it was
    /// paused or cut off long enough for another instance to take the session over).
    #[error("not sent: this gateway no longer holds the session (another instance answers it)")]
    Fenced,
    /// The request did not complete (connect, TLS, timeout, reset).
    #[error("{api}: {message}")]
    Transport {
        /// Which API.
        api: &'static str,
        /// What failed.
        message: String,
    },
    /// An answer that does not follow the protocol.
    #[error("{api}: unexpected answer: {message}")]
    Protocol {
        /// Which API.
        api: &'static str,
        /// What was wrong with the answer.
        message: String,
    },
    /// The conversation's sessionWebhook has expired (errcode 300001).
    #[error("the sessionWebhook has expired")]
    WebhookExpired,
    /// A DM cannot be answered through the OpenAPI without the sender's staff id.
    #[error("cannot send a direct message through the OpenAPI without the sender's staff id")]
    NoStaffId,
}

/// The `message` of an error answer, else the start of the answer itself.
fn answer_message(answer: &Value) -> String {
    answer
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| answer.to_string().chars().take(300).collect())
}

/// `errcode` of an expired or unknown sessionWebhook.
pub const ERRCODE_SESSION_EXPIRED: i64 = 300_001;
/// `errcode` of a custom robot sending more than 20 messages a minute.
pub const ERRCODE_ROBOT_TOO_FAST: i64 = 130_101;
/// `errcode` of a custom robot keyword, signature or IP check failure.
pub const ERRCODE_ROBOT_SECURITY: i64 = 310_000;

impl DingTalkError {
    /// An HTTP error from a `{code, message}` answer (docs/dingtalk-protocol.md 4.4).
    pub fn from_answer(api: &'static str, status: u16, answer: &Value) -> Self {
        DingTalkError::Http {
            api,
            status,
            code: answer
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message: answer_message(answer),
        }
    }

    /// An error from an API that checks the app's credentials (connections/open,
    /// accessToken): 400/401/403 mean the credentials were refused.
    pub fn from_credentials_answer(
        api: &'static str,
        account: &str,
        status: u16,
        answer: &Value,
    ) -> Self {
        if matches!(status, 400 | 401 | 403) {
            DingTalkError::AuthRejected {
                account: account.to_owned(),
                status,
                message: answer_message(answer),
            }
        } else {
            Self::from_answer(api, status, answer)
        }
    }

    /// A 200 answer with a nonzero `errcode`.
    pub fn rejected(api: &'static str, errcode: i64, answer: &Value) -> Self {
        DingTalkError::Rejected {
            api,
            errcode,
            errmsg: answer
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }
    }

    /// Worth retrying after a pause: throttling, server errors, network trouble. Parameter and
    /// permission errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            DingTalkError::Http { status, .. } => *status >= 500 || self.is_throttled(),
            DingTalkError::Transport { .. } => true,
            DingTalkError::Rejected { errcode, .. } => *errcode == ERRCODE_ROBOT_TOO_FAST,
            _ => false,
        }
    }

    /// DingTalk's QPS throttling (403 `...QpsLimit...`, or 429).
    pub fn is_throttled(&self) -> bool {
        match self {
            DingTalkError::Http { status, code, .. } => {
                *status == 429
                    || (*status == 403 && code.as_deref().is_some_and(|c| c.contains("QpsLimit")))
            }
            _ => false,
        }
    }

    /// The access token was refused (expired early or revoked): refresh and retry once.
    pub fn is_token_invalid(&self) -> bool {
        matches!(self, DingTalkError::Http { status: 401, .. })
            || matches!(self, DingTalkError::Http { code: Some(c), .. } if c == "InvalidAuthentication")
    }
}
