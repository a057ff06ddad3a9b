//! A chat request and its answer, independent of the wire protocol. Tool calls follow the
//! OpenAI shape (function name plus JSON arguments as a string).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who says a message to a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The system prompt.
    System,
    /// A person.
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
}

/// One message of a conversation with a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: ChatRole,
    /// What was said.
    pub content: String,
    /// Calls the assistant asked for (assistant messages only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Pictures of a user message. Sent to a model that takes pictures once their bytes are
    /// loaded (`data`); otherwise described in the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImagePart>,
}

/// A picture in a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePart {
    /// Its media type.
    pub mime: String,
    /// Hex SHA-256 of the bytes (the key of its description cache).
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it is kept.
    pub path: std::path::PathBuf,
    /// Its file name.
    pub name: String,
    /// The bytes, base64, loaded just before a call to a model that takes pictures.
    #[serde(skip)]
    pub data: Option<std::sync::Arc<str>>,
}

impl ChatMessage {
    fn new(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            images: Vec::new(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(ChatRole::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(ChatRole::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(ChatRole::Assistant, content)
    }

    /// An assistant turn that asked for tools.
    pub fn assistant_calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::new(ChatRole::Assistant, content)
        }
    }

    /// A tool's result.
    pub fn tool(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(ChatRole::Tool, content)
        }
    }
}

/// A function the model may call.
///
/// Every turn offers the tools again, so a spec is cloned per model call: the description
/// and the schema are shared, not copied (copying the schemas' JSON maps was a tenth of a
/// message's CPU), and the OpenAI form of the whole entry is serialised once, when the
/// spec is made, instead of on every call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Its name (letters, digits, `_`, `-`).
    pub name: String,
    /// What it does, for the model.
    pub description: Arc<str>,
    /// JSON Schema of the arguments.
    pub parameters: Arc<Value>,
    /// The entry of an OpenAI `tools` array for the fields above, when made by
    /// [`ToolSpec::new`]; a spec written field by field leaves it empty and is serialised
    /// per call.
    #[serde(skip)]
    pub openai_wire: SerialisedTool,
}

impl ToolSpec {
    /// A spec with its OpenAI form serialised once.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<Arc<str>>,
        parameters: Value,
    ) -> Self {
        let mut spec = ToolSpec {
            name: name.into(),
            description: description.into(),
            parameters: Arc::new(parameters),
            openai_wire: SerialisedTool::default(),
        };
        spec.openai_wire = SerialisedTool::of(&spec);
        spec
    }
}

/// A tool's OpenAI `tools` entry as JSON text, made once: a cache of the spec's other fields,
/// so it is ignored when specs are compared.
#[derive(Clone, Default)]
pub struct SerialisedTool(Option<Arc<serde_json::value::RawValue>>);

impl SerialisedTool {
    fn of(spec: &ToolSpec) -> Self {
        let entry = serde_json::json!({
            "type": "function",
            "function": {
                "name": spec.name,
                "description": &*spec.description,
                "parameters": &*spec.parameters,
            }
        });
        SerialisedTool(serde_json::value::to_raw_value(&entry).ok().map(Arc::from))
    }

    /// The JSON text, when there is one.
    pub fn get(&self) -> Option<&serde_json::value::RawValue> {
        self.0.as_deref()
    }
}

impl PartialEq for SerialisedTool {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SerialisedTool {}

impl std::fmt::Debug for SerialisedTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "SerialisedTool(..)"
        } else {
            "SerialisedTool(none)"
        })
    }
}

/// A call the model asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The model's id for the call, echoed with the result.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as the model wrote them: a JSON document in a string.
    pub arguments: String,
}

/// Tokens used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Both.
    #[serde(default)]
    pub total_tokens: u64,
}

impl Usage {
    /// Adds another call's tokens.
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// What to ask a model.
#[derive(Clone, Debug, Default)]
pub struct ChatRequest {
    /// The model id as the provider spells it.
    pub model: String,
    /// The conversation, system prompt first.
    pub messages: Vec<ChatMessage>,
    /// The tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Extra request fields for this model (`agents.defaults.models.<ref>.params`), such as
    /// DashScope's `enable_search`.
    pub params: serde_json::Map<String, Value>,
}

/// A model's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The answer's text.
    pub text: String,
    /// The tools the model asked to call (then `text` is usually empty).
    pub tool_calls: Vec<ToolCall>,
    /// The model that answered, as the provider names it.
    pub model: String,
    /// Tokens used.
    pub usage: Usage,
    /// Why the model stopped (`stop`, `length`, `tool_calls`), as it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

/// Where a streamed answer's text goes as it arrives: the text so far.
pub type StreamSink = tokio::sync::watch::Sender<String>;
