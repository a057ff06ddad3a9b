//! The providers dingclaw knows without configuration: usable with only an API key (from the
//! environment or `models.providers.<id>.apiKey`), and each overridable key by key in
//! `models.providers.<id>` (docs/openclaw-routing.md 5.2).

use super::models::ModelApi;

/// One built-in provider.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinProvider {
    /// Its id.
    pub id: &'static str,
    /// Other ids that mean this provider (OpenClaw's spellings included).
    pub aliases: &'static [&'static str],
    /// Its name for people.
    pub title: &'static str,
    /// The API it speaks.
    pub api: ModelApi,
    /// Where it is called.
    pub base_url: &'static str,
    /// Environment variables tried, in order, for the API key.
    pub key_vars: &'static [&'static str],
    /// A local server may need no key.
    pub needs_key: bool,
}

const OPENAI: ModelApi = ModelApi::OpenaiCompletions;
const ANTHROPIC: ModelApi = ModelApi::AnthropicMessages;

const DASHSCOPE_KEYS: &[&str] = &["DASHSCOPE_API_KEY", "MODELSTUDIO_API_KEY", "QWEN_API_KEY"];

/// The catalogue.
pub const BUILTIN_PROVIDERS: &[BuiltinProvider] = &[
    BuiltinProvider {
        id: "dashscope",
        aliases: &["qwen", "alibaba"],
        title: "Alibaba Model Studio, pay-as-you-go (China)",
        api: OPENAI,
        base_url: "https://dashscope.aliyuncs.com/compatible-mode/v1",
        key_vars: DASHSCOPE_KEYS,
        needs_key: true,
    },
    BuiltinProvider {
        id: "dashscope-intl",
        aliases: &[],
        title: "Alibaba Model Studio, pay-as-you-go (international)",
        api: OPENAI,
        base_url: "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        key_vars: DASHSCOPE_KEYS,
        needs_key: true,
    },
    BuiltinProvider {
        id: "dashscope-coding",
        aliases: &["modelstudio"],
        title: "Alibaba Model Studio Coding Plan",
        api: OPENAI,
        base_url: "https://coding.dashscope.aliyuncs.com/v1",
        key_vars: &[
            "DASHSCOPE_CODING_API_KEY",
            "MODELSTUDIO_API_KEY",
            "DASHSCOPE_API_KEY",
        ],
        needs_key: true,
    },
    BuiltinProvider {
        id: "deepseek",
        aliases: &[],
        title: "DeepSeek",
        api: OPENAI,
        base_url: "https://api.deepseek.com",
        key_vars: &["DEEPSEEK_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "moonshot",
        aliases: &[],
        title: "Moonshot Kimi (China)",
        api: OPENAI,
        base_url: "https://api.moonshot.cn/v1",
        key_vars: &["MOONSHOT_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "kimi-coding",
        aliases: &["kimi", "kimi-code"],
        title: "Kimi Coding",
        api: ANTHROPIC,
        base_url: "https://api.kimi.com/coding",
        key_vars: &["KIMI_API_KEY", "KIMICODE_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "zai",
        aliases: &["z.ai", "z-ai"],
        title: "Z.AI GLM (international)",
        api: OPENAI,
        base_url: "https://api.z.ai/api/paas/v4",
        key_vars: &["ZAI_API_KEY", "Z_AI_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "zhipu",
        aliases: &["bigmodel", "glm"],
        title: "Zhipu GLM (China)",
        api: OPENAI,
        base_url: "https://open.bigmodel.cn/api/paas/v4",
        key_vars: &["ZHIPU_API_KEY", "ZAI_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "volcengine",
        aliases: &["doubao", "bytedance"],
        title: "Volcano Engine Doubao",
        api: OPENAI,
        base_url: "https://ark.cn-beijing.volces.com/api/v3",
        key_vars: &["VOLCANO_ENGINE_API_KEY", "ARK_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "minimax",
        aliases: &[],
        title: "MiniMax (China)",
        api: ANTHROPIC,
        base_url: "https://api.minimaxi.com/anthropic",
        key_vars: &["MINIMAX_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "openai",
        aliases: &[],
        title: "OpenAI",
        api: OPENAI,
        base_url: "https://api.openai.com/v1",
        key_vars: &["OPENAI_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "anthropic",
        aliases: &[],
        title: "Anthropic",
        api: ANTHROPIC,
        base_url: "https://api.anthropic.com",
        key_vars: &["ANTHROPIC_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "openrouter",
        aliases: &[],
        title: "OpenRouter",
        api: OPENAI,
        base_url: "https://openrouter.ai/api/v1",
        key_vars: &["OPENROUTER_API_KEY"],
        needs_key: true,
    },
    BuiltinProvider {
        id: "ollama",
        aliases: &[],
        title: "Ollama (local)",
        api: OPENAI,
        base_url: "http://127.0.0.1:11434/v1",
        key_vars: &["OLLAMA_API_KEY"],
        needs_key: false,
    },
];

/// The canonical id for `id` (lower-cased, aliases resolved); unknown ids are returned as
/// given (lower-cased), since configured providers can have any id.
pub fn canonical_provider_id(id: &str) -> String {
    let id = id.trim().to_lowercase();
    BUILTIN_PROVIDERS
        .iter()
        .find(|p| p.aliases.contains(&id.as_str()))
        .map(|p| p.id.to_owned())
        .unwrap_or(id)
}

/// The built-in provider with this (canonical) id.
pub fn builtin(id: &str) -> Option<&'static BuiltinProvider> {
    BUILTIN_PROVIDERS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_ids() {
        assert_eq!(canonical_provider_id("ModelStudio"), "dashscope-coding");
        assert_eq!(canonical_provider_id("doubao"), "volcengine");
        assert_eq!(canonical_provider_id("Z.AI"), "zai");
        assert_eq!(canonical_provider_id("my-proxy"), "my-proxy");
        assert!(builtin("dashscope-coding").is_some());
    }

    #[test]
    fn ids_and_aliases_are_unique() {
        let mut all: Vec<&str> = BUILTIN_PROVIDERS
            .iter()
            .flat_map(|p| std::iter::once(p.id).chain(p.aliases.iter().copied()))
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
