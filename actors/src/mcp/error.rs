//! What can go wrong talking to an MCP server; the model reads the message as the call's
//! error, the operator reads it in `dingclaw mcp list`.

/// Why an MCP server or one of its calls failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum McpError {
    /// The server's process could not be started, or its URL not reached.
    #[error("cannot start: {0}")]
    Start(String),
    /// The server did not finish the MCP handshake in time.
    #[error("did not finish connecting within {0} s")]
    ConnectTimeout(u64),
    /// The server's actor is down (restarting, or given up on).
    #[error("the server is not running: {0}")]
    NotRunning(String),
    /// A call got no answer in time.
    #[error("the server did not answer within {0} s")]
    CallTimeout(u64),
    /// The server went away during the call.
    #[error("the server closed the connection")]
    Closed,
    /// The server broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The tool ran and reported an error (`isError`).
    #[error("{0}")]
    Tool(String),
}
