//! The client side of an MCP session: it names dingclaw when initialising and passes the
//! server's `notifications/tools/list_changed` to the server's actor, which lists the tools
//! again.

use rmcp::ClientHandler;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{NotificationContext, RoleClient};
use tokio::sync::mpsc::UnboundedSender;

/// What the session tells its actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvents {
    /// The server said its tools changed (`notifications/tools/list_changed`).
    ToolsChanged,
}

/// One per session.
pub struct Handler {
    pub server: String,
    pub events: UnboundedSender<ClientEvents>,
}

impl ClientHandler for Handler {
    /// dingclaw asks for protocol 2025-11-25, the newest that the servers published on npm
    /// and PyPI speak (the SDK's own default is the 2026-07-28 draft); a server that knows
    /// only an older one answers with it, and the session uses that.
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("dingclaw", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) {
        tracing::info!(server = %self.server, "MCP server says its tools changed");
        let _ = self.events.send(ClientEvents::ToolsChanged);
    }
}
