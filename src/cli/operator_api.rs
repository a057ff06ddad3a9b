//! The running gateway's operator API as the command line reaches it (`cron`, `mcp list`):
//! the address and the token come from the config (`gateway.port`, `gateway.auth.token`, or
//! the token the gateway generated in the state directory) unless given.

use std::time::Duration;

use anyhow::bail;
use clap::Args;
use dingclaw_actors::config::{Config, Secret};
use serde_json::Value;

use crate::web::client_token;

#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// The gateway's operator address (default: http://127.0.0.1:<gateway.port>).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// The operator token (default: gateway.auth.token, else the generated one).
    // A generated token is URL-safe base64 and one in 64 starts with `-`, which would
    // otherwise read as a flag (`--token -wMe...` failed with "unexpected argument '-w'").
    #[arg(
        long,
        global = true,
        env = "DINGCLAW_OPERATOR_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
}

pub struct Api {
    pub base: String,
    token: Option<Secret>,
    http: awc::Client,
}

impl Api {
    /// Must be made inside an actix System (awc clients are per thread).
    pub fn new(args: &OperatorArgs, config: &Config, timeout: Duration) -> Api {
        let base = args
            .url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", config.gateway.port));
        Api {
            base: base.trim_end_matches('/').to_owned(),
            token: args
                .token
                .clone()
                .map(Secret::new)
                .or_else(|| client_token(config)),
            http: dingclaw_actors::tls::client(timeout),
        }
    }

    pub async fn call(&self, method: awc::http::Method, path: &str) -> anyhow::Result<Value> {
        self.send(method, path, None).await
    }

    /// A POST with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(awc::http::Method::POST, path, Some(body)).await
    }

    async fn send(
        &self,
        method: awc::http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            request = request.insert_header(("Authorization", format!("Bearer {}", t.expose())));
        }
        let sending = match body {
            Some(b) => request.send_json(b),
            None => request.send(),
        };
        // awc's error is not `Send`, so it becomes text here.
        let mut resp = sending.await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the gateway at {} ({e}); is `dingclaw gateway` running? --url sets the address",
                self.base
            )
        })?;
        let body: Value = resp
            .json()
            .limit(16 * 1024 * 1024)
            .await
            .unwrap_or(Value::Null);
        if !resp.status().is_success() {
            let message = body["error"].as_str().unwrap_or("no details");
            bail!(
                "the gateway answered HTTP {}: {message}",
                resp.status().as_u16()
            );
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    #[test]
    fn a_token_that_starts_with_a_dash_is_a_value() {
        for args in [
            vec!["dingclaw", "cron", "list", "--token", "-wMeqxsvj"],
            vec!["dingclaw", "cron", "list", "--token=-wMeqxsvj"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let Command::Cron(cron) = cli.command else {
                panic!("cron");
            };
            assert_eq!(cron.operator.token.as_deref(), Some("-wMeqxsvj"));
        }
    }
}
