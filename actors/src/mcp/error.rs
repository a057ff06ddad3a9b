//! What can go wrong talking to an MCP server; the model reads the message as the call's
//! error, the operator reads it in `dingclaw mcp list`.

/// Why an MCP server or one of its calls failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum McpError {
    #[error("cannot start: {0}")]
    Start(String),
    #[error("did not finish connecting within {0} s")]
    ConnectTimeout(u64),
    #[error("the server is not running: {0}")]
    NotRunning(String),
    #[error("the server did not answer within {0} s")]
    CallTimeout(u64),
    #[error("the server closed the connection")]
    Closed,
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The tool ran and reported an error (`isError`).
    #[error("{0}")]
    Tool(String),
}
