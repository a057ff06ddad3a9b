//! `dingclaw demo --config my.json`: the operator's own openclaw.json, run offline. It loads
//! as the gateway would load it, except that missing or placeholder credentials are not
//! errors (nothing is sent to DingTalk or a provider); then every account is pointed at the
//! simulator, every provider at the offline model, robot webhooks at the simulator and the
//! store at the demo's own state directory. The banner lists each of those changes.

use std::path::{Path, PathBuf};

use dingclaw_actors::config::{
    Config, ConfigError, Environment, MapEnv, ModelApi, Secret, StoreKind, load_file,
};

/// The process environment, marked offline.
struct OfflineEnv(MapEnv);

impl Environment for OfflineEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }

    fn home_dir(&self) -> Option<PathBuf> {
        self.0.home_dir()
    }

    fn current_dir(&self) -> Option<PathBuf> {
        self.0.current_dir()
    }

    fn offline(&self) -> bool {
        true
    }
}

/// Loads `path` for an offline run and redirects what would leave the machine. Returns the
/// config and one line per redirection.
pub fn load(
    path: &Path,
    env: MapEnv,
    sim_url: &str,
    model_url: &str,
    state_dir: &Path,
) -> anyhow::Result<(Config, Vec<String>)> {
    let loaded = match load_file(path, &OfflineEnv(env)) {
        Ok(l) => l,
        Err(ConfigError::Invalid { file, errors, .. }) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            anyhow::bail!(
                "{} is not a valid config ({} {}):\n{}",
                file.display(),
                errors.len(),
                if errors.len() == 1 { "error" } else { "errors" },
                lines.join("\n")
            );
        }
        Err(other) => return Err(other.into()),
    };
    let mut config = loaded.config;
    let notes = redirect(&mut config, sim_url, model_url, state_dir);
    Ok((config, notes))
}

/// Points everything that would leave the machine at the simulator and the offline model.
fn redirect(config: &mut Config, sim_url: &str, model_url: &str, state_dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let mut endpoints: Vec<String> = Vec::new();
    let mut accounts = Vec::new();
    for a in config.channels.dingtalk.accounts.values_mut() {
        let a = std::sync::Arc::make_mut(a);
        if !endpoints.contains(&a.endpoint) {
            endpoints.push(a.endpoint.clone());
        }
        // Credentials the config leaves to variables that are not set: the simulator needs
        // some value, and none of them leaves the machine.
        if a.client_id.trim().is_empty() || a.client_id.contains("${") {
            a.client_id = format!("demo-{}", a.id);
        }
        if a.client_secret.is_empty() || a.client_secret.expose().contains("${") {
            a.client_secret = Secret::new(format!("demo-secret-{}", a.id));
        }
        a.endpoint = sim_url.to_owned();
        if a.enabled && config.channels.dingtalk.enabled {
            accounts.push(a.id.clone());
        }
    }
    if !accounts.is_empty() {
        notes.push(format!(
            "bots {} → the simulator (instead of {})",
            accounts.join(", "),
            endpoints.join(", ")
        ));
    }
    let used = config.agents.used_providers();
    for p in config.models.providers.values_mut() {
        if used.contains(&p.id) {
            notes.push(format!(
                "provider {} ({}) → the offline model",
                p.id,
                if p.base_url.is_empty() {
                    "no baseUrl"
                } else {
                    &p.base_url
                }
            ));
        }
        p.base_url = model_url.to_owned();
        // The offline model speaks the OpenAI protocol.
        p.api = ModelApi::OpenaiCompletions;
        if p.api_key.is_none() {
            p.api_key = Some(Secret::new("offline-demo-key"));
        }
    }
    config.cron.dingtalk_webhook_base = sim_url.to_owned();
    notes.push("group robot webhooks → the simulator".to_owned());
    config.runtime.store_path = state_dir.join("dingclaw").join("dingclaw.sqlite");
    if config.runtime.store == StoreKind::Sqlite {
        notes.push(format!(
            "store → {} (your own state is not touched)",
            config.runtime.store_path.display()
        ));
    }
    notes
}
