//! `/think <level>`: how hard the model reasons, as each API spells it. Model Studio (DashScope)
//! takes `enable_thinking` and `thinking_budget`; other OpenAI-compatible APIs
//! `reasoning_effort`; Anthropic's Messages API a `thinking` block whose budget must stay
//! under the answer length the gateway asks for (4,096 tokens).

use serde_json::{Map, Value, json};

use crate::config::{ModelApi, ProviderConfig};

/// A reasoning level, from OpenClaw's words (`minimal` and `xhigh` fold into their
/// neighbours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThinkLevel {
    /// No reasoning asked for.
    Off,
    /// A little (`minimal` folds in here).
    Low,
    /// The providers' usual default.
    Medium,
    /// As much as the model offers (`xhigh`, `max`, `ultra` fold in here).
    High,
}

impl ThinkLevel {
    /// Reads a level as users type it (`/think high`, `/think 高`); `None` if it is not one.
    pub fn parse(word: &str) -> Option<ThinkLevel> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "关" | "关闭" => ThinkLevel::Off,
            "minimal" | "low" | "低" => ThinkLevel::Low,
            "medium" | "on" | "中" => ThinkLevel::Medium,
            "high" | "xhigh" | "max" | "ultra" | "高" => ThinkLevel::High,
            _ => return None,
        })
    }

    /// The level's name as `/status` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkLevel::Off => "off",
            ThinkLevel::Low => "low",
            ThinkLevel::Medium => "medium",
            ThinkLevel::High => "high",
        }
    }
}

/// Is this provider Model Studio (DashScope), whose OpenAI-compatible API has its own switch?
fn is_dashscope(p: &ProviderConfig) -> bool {
    let id = p.id.to_ascii_lowercase();
    ["dashscope", "modelstudio", "bailian", "qwen", "aliyun"]
        .iter()
        .any(|k| id.contains(k))
        || p.base_url.contains("dashscope")
}

/// The request fields for `level` on provider `p`.
pub fn params(level: ThinkLevel, p: &ProviderConfig) -> Map<String, Value> {
    let mut out = Map::new();
    let budget = match level {
        ThinkLevel::Off => 0,
        ThinkLevel::Low => 1_024,
        ThinkLevel::Medium => 2_048,
        ThinkLevel::High => 3_072,
    };
    match p.api {
        ModelApi::AnthropicMessages => {
            if level != ThinkLevel::Off {
                out.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            }
        }
        _ if is_dashscope(p) => {
            out.insert("enable_thinking".into(), json!(level != ThinkLevel::Off));
            if level != ThinkLevel::Off {
                out.insert("thinking_budget".into(), json!(budget * 4));
            }
        }
        _ => {
            if level != ThinkLevel::Off {
                out.insert("reasoning_effort".into(), json!(level.as_str()));
            }
        }
    }
    out
}

/// What `/think` tells the user the level means on this provider.
pub fn describe(level: ThinkLevel, p: &ProviderConfig) -> String {
    let fields: Vec<String> = params(level, p)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if fields.is_empty() {
        "the model's default".to_owned()
    } else {
        fields.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: &str, api: ModelApi, base: &str) -> ProviderConfig {
        let loaded = crate::config::load_str(
            r#"{ models: { providers: { p: { baseUrl: "https://example.com/v1", apiKey: "k" } } } }"#,
            std::path::Path::new("/"),
            &crate::config::MapEnv::new(),
        )
        .expect("a valid config");
        let mut p = loaded
            .config
            .models
            .provider("p")
            .cloned()
            .expect("the provider is configured");
        p.id = id.into();
        p.api = api;
        p.base_url = base.into();
        p
    }

    #[test]
    fn each_api_gets_its_own_field() {
        let ds = provider(
            "dashscope",
            ModelApi::OpenaiCompletions,
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
        );
        assert_eq!(
            Value::Object(params(ThinkLevel::High, &ds)),
            json!({"enable_thinking": true, "thinking_budget": 12288})
        );
        assert_eq!(
            Value::Object(params(ThinkLevel::Off, &ds)),
            json!({"enable_thinking": false})
        );
        let ds_like = provider(
            "deepseek",
            ModelApi::OpenaiCompletions,
            "https://api.deepseek.com",
        );
        assert_eq!(
            Value::Object(params(ThinkLevel::Low, &ds_like)),
            json!({"reasoning_effort": "low"})
        );
        assert!(params(ThinkLevel::Off, &ds_like).is_empty());
        let claude = provider(
            "anthropic",
            ModelApi::AnthropicMessages,
            "https://api.anthropic.com",
        );
        assert_eq!(
            params(ThinkLevel::Medium, &claude)["thinking"]["budget_tokens"],
            2048
        );
        assert_eq!(ThinkLevel::parse("xhigh"), Some(ThinkLevel::High));
        assert_eq!(ThinkLevel::parse("banana"), None);
    }
}
