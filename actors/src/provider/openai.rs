//! The OpenAI chat completions protocol (`POST {baseUrl}/chat/completions`), which every
//! China provider in the catalogue speaks: plain answers, and streamed ones as server-sent
//! events (content deltas, tool-call deltas by index, a usage chunk, `[DONE]`).

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::ProviderConfig;

use super::chat::{ChatMessage, ChatRequest, ChatRole, Completion, StreamSink, ToolCall, Usage};
use super::error::ProviderError;
use super::http::{Events, post, read_body};

/// The request body, serialised straight from the request's borrowed fields: no
/// intermediate `serde_json::Value` tree (the profile of the load benchmark showed building
/// one per call as a top cost, since the whole history goes out on every turn).
#[derive(Serialize)]
pub struct RequestBody<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    /// The model's `params`, beside the fields above (the agent drops any that would clash).
    #[serde(flatten)]
    params: &'a serde_json::Map<String, Value>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A `tools` entry: serialised when the spec was made, or built now.
#[derive(Serialize)]
#[serde(untagged)]
enum WireTool<'a> {
    Serialised(&'a RawValue),
    Built {
        r#type: &'static str,
        function: WireFunction<'a>,
    },
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// One message as the protocol has it: an assistant's tool calls carry `content: null` when
/// it said nothing, and a tool message names the call it answers.
#[derive(Serialize)]
#[serde(untagged)]
enum WireMessage<'a> {
    Calls {
        role: ChatRole,
        content: Option<&'a str>,
        tool_calls: Vec<WireCall<'a>>,
    },
    Tool {
        role: ChatRole,
        tool_call_id: Option<&'a str>,
        content: &'a str,
    },
    Plain {
        role: ChatRole,
        content: &'a str,
    },
    /// A user message with pictures: text and `image_url` parts (data URLs).
    Parts {
        role: ChatRole,
        content: Vec<WirePart<'a>>,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: WireImage },
}

#[derive(Serialize)]
struct WireImage {
    url: String,
}

#[derive(Serialize)]
struct WireCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireArguments<'a>,
}

#[derive(Serialize)]
struct WireArguments<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// The OpenAI chat-completions request for `req` (with the model's extra `params`).
pub fn request_body(req: &ChatRequest, stream: bool) -> RequestBody<'_> {
    RequestBody {
        model: &req.model,
        messages: req.messages.iter().map(message).collect(),
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
        tools: req
            .tools
            .iter()
            .map(|t| match t.openai_wire.get() {
                Some(raw) => WireTool::Serialised(raw),
                None => WireTool::Built {
                    r#type: "function",
                    function: WireFunction {
                        name: &t.name,
                        description: &t.description,
                        parameters: &t.parameters,
                    },
                },
            })
            .collect(),
        params: &req.params,
    }
}

fn message(m: &ChatMessage) -> WireMessage<'_> {
    match m.role {
        ChatRole::Assistant if !m.tool_calls.is_empty() => WireMessage::Calls {
            role: m.role,
            content: (!m.content.is_empty()).then_some(m.content.as_str()),
            tool_calls: m
                .tool_calls
                .iter()
                .map(|c| WireCall {
                    id: &c.id,
                    r#type: "function",
                    function: WireArguments {
                        name: &c.name,
                        arguments: &c.arguments,
                    },
                })
                .collect(),
        },
        ChatRole::Tool => WireMessage::Tool {
            role: m.role,
            tool_call_id: m.tool_call_id.as_deref(),
            content: &m.content,
        },
        role if m.images.iter().any(|i| i.data.is_some()) => {
            let mut content = vec![WirePart::Text { text: &m.content }];
            for i in m.images.iter() {
                if let Some(data) = &i.data {
                    content.push(WirePart::ImageUrl {
                        image_url: WireImage {
                            url: format!("data:{};base64,{data}", i.mime),
                        },
                    });
                }
            }
            WireMessage::Parts { role, content }
        }
        role => WireMessage::Plain {
            role,
            content: &m.content,
        },
    }
}

/// One call. Streams when `sink` is given and the provider allows it.
pub async fn call(
    http: &awc::Client,
    p: &ProviderConfig,
    req: &ChatRequest,
    sink: Option<&StreamSink>,
) -> Result<Completion, ProviderError> {
    let stream = sink.is_some() && p.streaming;
    let mut request = http
        .post(format!("{}/chat/completions", p.base_url))
        .insert_header((
            "Accept",
            if stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        ));
    if let Some(key) = &p.api_key {
        request = request.insert_header(("Authorization", format!("Bearer {}", key.expose())));
    }
    let mut answer = post(request, p, &request_body(req, stream)).await?;
    if stream {
        return read_stream(answer, p, &req.model, sink).await;
    }
    let v = read_body(&mut answer, &p.id).await?;
    parse_answer(&v, &req.model).map_err(|message| ProviderError::Protocol {
        provider: p.id.clone(),
        message,
    })
}

fn tool_calls(v: Option<&Value>) -> Vec<ToolCall> {
    v.and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .map(|c| ToolCall {
                    id: c
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    name: c
                        .pointer("/function/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: c
                        .pointer("/function/arguments")
                        .and_then(Value::as_str)
                        .unwrap_or("{}")
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A plain (non-streamed) answer.
pub fn parse_answer(v: &Value, model: &str) -> Result<Completion, String> {
    let choice = v.pointer("/choices/0").ok_or("no choices in the answer")?;
    Ok(Completion {
        text: choice
            .pointer("/message/content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        tool_calls: tool_calls(choice.pointer("/message/tool_calls")),
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_owned(),
        usage: v
            .get("usage")
            .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok())
            .unwrap_or_default(),
        finish_reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// More tool calls than this in one answer is not an answer but a broken stream.
const MAX_TOOL_CALLS: usize = 128;

/// Assembles a whole streamed answer held in memory (a body of server-sent events) the way
/// `read_stream` does as it arrives. For fuzzing and tests; it shares the assembly code.
pub fn assemble_sse(body: &[u8], model: &str) -> Result<Completion, String> {
    use futures_util::{FutureExt, StreamExt};
    let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(
        bytes::Bytes::copy_from_slice(body),
    )]);
    let mut events = Box::pin(super::http::sse_events(chunks));
    let mut assembly = StreamAssembly::new(model);
    // The stream is in memory: every poll is ready at once.
    while let Some(Some(event)) = events.next().now_or_never() {
        let event = event.map_err(|e| e.to_string())?;
        assembly.push(&event.data)?;
        if assembly.done {
            break;
        }
    }
    assembly.finish()
}

/// Assembles a streamed answer, passing the text on as it grows.
pub struct StreamAssembly {
    completion: Completion,
    done: bool,
}

impl StreamAssembly {
    /// An empty answer from `model`, filled in chunk by chunk.
    pub fn new(model: &str) -> Self {
        Self {
            completion: Completion {
                model: model.to_owned(),
                ..Completion::default()
            },
            done: false,
        }
    }

    /// Takes one event's data. Returns the content delta, if any.
    pub fn push(&mut self, data: &str) -> Result<Option<String>, String> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(None);
        }
        let v: Value = serde_json::from_str(data).map_err(|e| {
            format!(
                "malformed event ({e}): {}",
                data.chars().take(120).collect::<String>()
            )
        })?;
        if let Some(err) = v.get("error") {
            return Err(format!("error in stream: {err}"));
        }
        let c = &mut self.completion;
        if let Some(m) = v.get("model").and_then(Value::as_str) {
            c.model = m.to_owned();
        }
        if let Some(u) = v
            .get("usage")
            .filter(|u| !u.is_null())
            .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok())
        {
            c.usage = u;
        }
        let Some(choice) = v.pointer("/choices/0") else {
            return Ok(None);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            c.finish_reason = Some(reason.to_owned());
        }
        for (position, delta) in choice
            .pointer("/delta/tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = delta
                .get("index")
                .and_then(Value::as_u64)
                .map_or(position, |i| i as usize);
            // The index comes from the provider: a wild one must not allocate without end.
            if index >= MAX_TOOL_CALLS {
                return Err(format!("tool call index {index} is out of range"));
            }
            while c.tool_calls.len() <= index {
                c.tool_calls.push(ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
            }
            let call = &mut c.tool_calls[index];
            if let Some(id) = delta.get("id").and_then(Value::as_str) {
                call.id = id.to_owned();
            }
            if let Some(name) = delta.pointer("/function/name").and_then(Value::as_str) {
                call.name.push_str(name);
            }
            if let Some(args) = delta.pointer("/function/arguments").and_then(Value::as_str) {
                call.arguments.push_str(args);
            }
        }
        // Reasoning deltas (`reasoning_content`, DeepSeek and Qwen) are not part of the answer.
        let content = choice
            .pointer("/delta/content")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        if let Some(text) = content {
            c.text.push_str(text);
        }
        Ok(content.map(str::to_owned))
    }

    /// The answer, once the stream has ended properly.
    pub fn finish(self) -> Result<Completion, String> {
        if !self.done && self.completion.finish_reason.is_none() {
            return Err("the stream ended before the answer was complete".to_owned());
        }
        let mut c = self.completion;
        c.tool_calls.retain(|t| !t.name.is_empty());
        Ok(c)
    }
}

async fn read_stream(
    answer: super::http::Answer,
    p: &ProviderConfig,
    model: &str,
    sink: Option<&StreamSink>,
) -> Result<Completion, ProviderError> {
    let protocol = |message: String| ProviderError::Protocol {
        provider: p.id.clone(),
        message,
    };
    let mut events = Events::new(answer, p);
    let mut assembly = StreamAssembly::new(model);
    while let Some(event) = events.next().await? {
        if let Some(delta) = assembly.push(&event.data).map_err(protocol)?
            && let Some(sink) = sink
        {
            sink.send_modify(|text| text.push_str(&delta));
        }
        if assembly.done {
            break;
        }
    }
    assembly.finish().map_err(protocol)
}

#[cfg(test)]
mod tests {
    /// Found by reading the SSE fuzz target's input space: an index of 10^12 in a tool-call
    /// delta used to make the assembly allocate a vector that long.
    #[test]
    fn a_wild_tool_call_index_is_an_error_not_an_allocation() {
        let body = b"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1000000000000,\"function\":{\"name\":\"f\"}}]}}]}\n\ndata: [DONE]\n\n";
        let e = super::assemble_sse(body, "m").unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let ok = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
        assert_eq!(super::assemble_sse(ok, "m").unwrap().text, "hi");
    }

    use super::*;
    use crate::provider::chat::ToolSpec;
    use serde_json::json;

    #[test]
    fn a_tool_serialised_once_is_the_same_json_as_one_built_per_call() {
        let schema = json!({"type": "object", "properties": {"url": {"type": "string", "description": "\"quoted\" 网址"}}});
        let made = ToolSpec::new("web_fetch", "Fetch a page: \"x\"\n", schema.clone());
        let literal = ToolSpec {
            name: "web_fetch".into(),
            description: "Fetch a page: \"x\"\n".into(),
            parameters: std::sync::Arc::new(schema),
            openai_wire: Default::default(),
        };
        assert!(made.openai_wire.get().is_some() && literal.openai_wire.get().is_none());
        assert_eq!(made, literal, "the cache does not take part in comparisons");
        let body = |spec: ToolSpec| {
            let req = ChatRequest {
                model: "m".into(),
                messages: vec![ChatMessage::user("hi")],
                tools: vec![spec],
                params: Default::default(),
            };
            serde_json::to_string(&request_body(&req, false)).expect("serialisable")
        };
        assert_eq!(body(made), body(literal));
    }

    #[test]
    fn request_carries_tools_and_tool_results_in_openai_shape() {
        let req = ChatRequest {
            model: "m".into(),
            messages: vec![
                ChatMessage::user("time?"),
                ChatMessage::assistant_calls(
                    "",
                    vec![ToolCall {
                        id: "c1".into(),
                        name: "current_time".into(),
                        arguments: "{}".into(),
                    }],
                ),
                ChatMessage::tool("c1", r#"{"now":"12:00"}"#),
            ],
            tools: vec![ToolSpec::new(
                "current_time",
                "d",
                json!({"type": "object"}),
            )],
            params: [("enable_search".to_owned(), json!(true))]
                .into_iter()
                .collect(),
        };
        let body = serde_json::to_value(request_body(&req, true)).expect("serialisable");
        assert_eq!(
            body["enable_search"], true,
            "the model's params sit beside the fields"
        );
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["tools"][0]["function"]["name"], "current_time");
        assert_eq!(body["messages"][1]["content"], Value::Null);
        assert_eq!(
            body["messages"][1]["tool_calls"][0]["function"]["arguments"],
            "{}"
        );
        assert_eq!(
            body["messages"][2],
            json!({"role": "tool", "tool_call_id": "c1", "content": "{\"now\":\"12:00\"}"})
        );
    }

    #[test]
    fn stream_assembles_content_tool_calls_and_usage() {
        let mut a = StreamAssembly::new("m");
        let events = [
            r#"{"model":"qwen","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"thinking..."}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"cron","arguments":"{\"act"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ion\":\"list\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"#,
            "[DONE]",
        ];
        let deltas: Vec<String> = events.iter().filter_map(|e| a.push(e).unwrap()).collect();
        assert_eq!(deltas, vec!["Hel", "lo"]);
        let c = a.finish().unwrap();
        assert_eq!(c.text, "Hello");
        assert_eq!(c.model, "qwen");
        assert_eq!(c.usage.total_tokens, 8);
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: "c1".into(),
                name: "cron".into(),
                arguments: r#"{"action":"list"}"#.into()
            }]
        );
    }

    #[test]
    fn truncated_or_malformed_streams_are_errors() {
        let mut a = StreamAssembly::new("m");
        a.push(r#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#)
            .unwrap();
        assert!(a.finish().is_err());
        let mut a = StreamAssembly::new("m");
        assert!(a.push("{not json").is_err());
        assert!(a.push(r#"{"error":{"message":"overloaded"}}"#).is_err());
    }

    #[test]
    fn plain_answer_with_null_content_and_tool_calls() {
        let v = json!({"model": "m2", "choices": [{"message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "x", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]});
        let c = parse_answer(&v, "m").unwrap();
        assert_eq!(
            (c.text.as_str(), c.tool_calls.len(), c.model.as_str()),
            ("", 1, "m2")
        );
    }
}
