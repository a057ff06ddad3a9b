//! Applying a changed config to the running gateway, by diffing the old and the new: bindings
//! take effect on the next message; a changed agent or provider gets new actors (a provider
//! whose settings did not change keeps its actors, circuit and limits); an added account starts,
//! a removed one stops, a changed one restarts. Sessions are untouched. What cannot change
//! while running (the operator port, worker threads, the store, turning the scheduler on or
//! off) is reported as needing a restart.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::config::{Config, DingTalkAccount};
use crate::provider::ProviderState;
use crate::routing::Routes;

use super::{Runtime, start_provider};
use crate::actors::account::{StopAccount, UpdateAccount};

/// What a reload did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// One line per change applied, e.g. `account bot3 started`.
    pub applied: Vec<String>,
    /// Sections that changed but take effect only after a restart.
    pub needs_restart: Vec<String>,
}

impl Runtime {
    /// Applies `new` (already validated). Safe to call with the same config: nothing happens.
    pub fn reload(self: &Arc<Self>, new: Config) -> ReloadReport {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.config();
        let mut report = ReloadReport::default();
        for (section, changed) in [
            ("gateway", old.gateway != new.gateway),
            ("dingclaw (workers, store)", old.runtime != new.runtime),
            ("cron.enabled", old.cron.enabled != new.cron.enabled),
        ] {
            if changed {
                report.needs_restart.push(section.to_owned());
            }
        }
        self.reload_providers(&new, &mut report);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new.clone());
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Routes::new(&new));
        if old.bindings.len() != new.bindings.len()
            || serde_json::to_value(&old.bindings).ok() != serde_json::to_value(&new.bindings).ok()
        {
            report.applied.push("bindings".to_owned());
        }
        self.reload_agents(&old, &new, &mut report);
        self.resize_turn_slots(
            old.agents.max_concurrent,
            new.agents.max_concurrent,
            &mut report,
        );
        self.reload_accounts(&old, &new, &mut report);
        self.reload_mcp(&old, &new, &mut report);
        if !report.applied.is_empty() || !report.needs_restart.is_empty() {
            // The caller (the gateway's reloader) logs the reload once, at info.
            tracing::debug!(applied = ?report.applied, needs_restart = ?report.needs_restart, "config changes applied");
        }
        report
    }

    fn reload_providers(self: &Arc<Self>, new: &Config, report: &mut ReloadReport) {
        let mut states = self.providers.write().unwrap_or_else(|p| p.into_inner());
        let mut next: HashMap<String, Arc<ProviderState>> = HashMap::new();
        for id in new.agents.used_providers() {
            let Some(p) = new.models.provider(&id).filter(|p| !p.base_url.is_empty()) else {
                continue;
            };
            match states.get(&id) {
                Some(state) if state.config == *p => {
                    next.insert(id, Arc::clone(state));
                }
                previous => {
                    report.applied.push(format!(
                        "provider {id} {}",
                        if previous.is_some() {
                            "replaced"
                        } else {
                            "started"
                        }
                    ));
                    next.insert(id, ProviderState::new(p.clone()));
                }
            }
        }
        for id in states.keys().filter(|id| !next.contains_key(*id)) {
            report.applied.push(format!("provider {id} stopped"));
        }
        for lane in &self.lanes {
            let mut actors = lane.providers.write().unwrap_or_else(|p| p.into_inner());
            actors.retain(|id, _| {
                next.get(id)
                    .is_some_and(|s| states.get(id).is_some_and(|o| Arc::ptr_eq(o, s)))
            });
            for (id, state) in &next {
                actors
                    .entry(id.clone())
                    .or_insert_with(|| start_provider(lane, state));
            }
        }
        *states = next;
    }

    fn reload_agents(self: &Arc<Self>, old: &Config, new: &Config, report: &mut ReloadReport) {
        let before: HashMap<&str, _> = old
            .agents
            .agents
            .iter()
            .map(|a| (a.id.as_str(), a))
            .collect();
        let mut changed = Vec::new();
        for agent in &new.agents.agents {
            match before.get(agent.id.as_str()) {
                Some(a) if *a == agent => {}
                Some(_) => changed.push((agent, "replaced")),
                None => changed.push((agent, "started")),
            }
        }
        let removed: Vec<&str> = before
            .keys()
            .copied()
            .filter(|id| new.agents.get(id).is_none())
            .collect();
        for lane in &self.lanes {
            let mut actors = lane.agents.write().unwrap_or_else(|p| p.into_inner());
            for id in &removed {
                actors.remove(*id);
            }
            for (agent, _) in &changed {
                actors.insert(agent.id.clone(), self.start_agent(lane, agent));
            }
        }
        for (agent, what) in changed {
            report.applied.push(format!("agent {} {what}", agent.id));
        }
        for id in removed {
            report.applied.push(format!("agent {id} stopped"));
        }
    }

    fn resize_turn_slots(&self, old: u32, new: u32, report: &mut ReloadReport) {
        let (old, new) = (old.max(1) as usize, new.max(1) as usize);
        if new > old {
            self.turn_slots.add_permits(new - old);
        } else if new < old {
            // Slots in use now are given back and then not replaced.
            self.turn_slots.forget_permits(old - new);
        }
        if new != old {
            report
                .applied
                .push(format!("agents.defaults.maxConcurrent {old} → {new}"));
        }
    }

    fn reload_accounts(self: &Arc<Self>, old: &Config, new: &Config, report: &mut ReloadReport) {
        let active = |c: &Config| -> HashMap<String, Arc<DingTalkAccount>> {
            c.channels
                .dingtalk
                .active_accounts()
                .map(|a| (a.id.clone(), a.clone()))
                .collect()
        };
        let (before, after) = (active(old), active(new));
        let mut updated = Vec::new();
        for (id, account) in &before {
            if let Some(next) = after.get(id)
                && next != account
                && next.same_connection(account)
                && let Some(addr) = self.accounts.get(id)
            {
                addr.do_send(UpdateAccount(Arc::clone(next)));
                report.applied.push(format!("account {id} updated"));
                updated.push(id.clone());
                continue;
            }
            if after.get(id) != Some(account) {
                if let Some((_, addr)) = self.accounts.remove(id) {
                    addr.do_send(StopAccount);
                }
                if !after.contains_key(id) {
                    report.applied.push(format!("account {id} stopped"));
                }
            }
        }
        for (id, account) in &after {
            match before.get(id) {
                Some(a) if a == account || updated.contains(id) => {}
                previous => {
                    self.start_account(Arc::clone(account), Vec::new());
                    report.applied.push(format!(
                        "account {id} {}",
                        if previous.is_some() {
                            "restarted"
                        } else {
                            "started"
                        }
                    ));
                }
            }
        }
    }

    /// Only the servers whose settings changed are stopped, started or restarted.
    fn reload_mcp(self: &Arc<Self>, old: &Config, new: &Config, report: &mut ReloadReport) {
        for server in &old.mcp.servers {
            if new.mcp.get(&server.name) == Some(server) {
                continue;
            }
            if let Some((_, addr)) = self.mcp_servers.remove(&server.name) {
                addr.do_send(super::super::mcp::StopMcpServer);
            }
            self.catalog.remove_mcp(&server.name);
            if new.mcp.get(&server.name).is_none() {
                report
                    .applied
                    .push(format!("MCP server {} stopped", server.name));
            }
        }
        for server in &new.mcp.servers {
            match old.mcp.get(&server.name) {
                Some(previous) if previous == server => {}
                previous => {
                    self.start_mcp_server(server);
                    report.applied.push(format!(
                        "MCP server {} {}",
                        server.name,
                        if previous.is_some() {
                            "restarted"
                        } else {
                            "started"
                        }
                    ));
                }
            }
        }
    }
}
