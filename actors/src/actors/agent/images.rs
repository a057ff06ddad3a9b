//! Pictures in a turn (docs/openclaw-agent.md 5.1-5.3). A model whose `input` includes
//! `"image"` gets them as image parts: those of the current message, and the newest
//! `dingclaw.historyImages` of earlier ones (older ones become a line of text, so a long chat
//! does not resend every picture). A model that cannot see gets, instead, what
//! `agents.defaults.imageModel` says each picture shows (asked once per picture, remembered);
//! without an image model it is told a picture was sent that it cannot see.

use std::sync::Arc;

use base64::Engine;
use dashmap::DashMap;

use super::Candidate;
use crate::actors::provider::Complete;
use crate::provider::{ChatMessage, ChatRequest, ChatRole, ImagePart};

/// The largest picture sent to a model (OpenClaw's `MAX_IMAGE_BYTES`).
pub const MAX_IMAGE_BYTES: u64 = 6 * 1024 * 1024;

/// What an image model is asked.
const DESCRIBE: &str = "Describe this picture for someone who cannot see it, in at most 600 characters: what it shows, and any text in it word for word (keep the text's language). No preamble.";

/// Remembered descriptions, by the picture's SHA-256.
pub type Descriptions = Arc<DashMap<String, String>>;

/// Index of the first message of the current turn: the messages after the last one that is
/// not from the user.
fn current_turn_start(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .rposition(|m| m.role != ChatRole::User)
        .map_or(0, |i| i + 1)
}

fn note(image: &ImagePart, why: &str) -> String {
    format!("\n[picture {}: {why}]", image.name)
}

/// Keeps the current turn's pictures and the newest `history` earlier ones, with their bytes
/// loaded; the others become a note in their message's text.
pub fn load_images(messages: &mut [ChatMessage], history: usize) {
    let start = current_turn_start(messages);
    let mut earlier_left = history;
    for (i, m) in messages.iter_mut().enumerate().rev() {
        if m.images.is_empty() {
            continue;
        }
        let current = i >= start;
        let mut kept = Vec::new();
        for mut image in std::mem::take(&mut m.images) {
            if !current {
                if earlier_left == 0 {
                    m.content
                        .push_str(&note(&image, "sent earlier, not shown again"));
                    continue;
                }
                earlier_left -= 1;
            }
            if image.size > MAX_IMAGE_BYTES {
                m.content
                    .push_str(&note(&image, "too large to show a model"));
                continue;
            }
            match std::fs::read(&image.path) {
                Ok(bytes) => {
                    image.data = Some(Arc::from(
                        base64::engine::general_purpose::STANDARD.encode(bytes),
                    ));
                    kept.push(image);
                }
                Err(e) => {
                    tracing::warn!(path = %image.path.display(), error = %e, "a picture is gone from the media folder");
                    m.content.push_str(&note(&image, "no longer available"));
                }
            }
        }
        m.images = kept;
    }
}

/// The messages for a model that cannot see: each picture replaced by its description.
pub fn text_only(messages: &[ChatMessage], descriptions: &Descriptions) -> Vec<ChatMessage> {
    messages
        .iter()
        .map(|m| {
            if m.images.is_empty() {
                return m.clone();
            }
            let mut m = m.clone();
            for image in std::mem::take(&mut m.images) {
                let text = match descriptions.get(&image.sha256) {
                    Some(d) => format!("\n[picture {}, described: {}]", image.name, d.value()),
                    None => note(
                        &image,
                        "the user sent a picture that this model cannot see; say so if the answer depends on it",
                    ),
                };
                m.content.push_str(&text);
            }
            m
        })
        .collect()
}

/// Asks `model` to describe every loaded picture not described yet.
pub async fn describe(messages: &[ChatMessage], model: &Candidate, descriptions: &Descriptions) {
    let Some(provider) = &model.provider else {
        tracing::warn!(model = %model.model, "agents.defaults.imageModel's provider is not running; pictures are not described");
        return;
    };
    for image in messages.iter().flat_map(|m| m.images.iter()) {
        if image.data.is_none() || descriptions.contains_key(&image.sha256) {
            continue;
        }
        let mut user = ChatMessage::user(DESCRIBE);
        user.images.push(image.clone());
        let request = ChatRequest {
            model: model.model.model.clone(),
            messages: vec![user],
            tools: Vec::new(),
            params: model.params.clone(),
        };
        let answer = provider
            .send(Complete {
                stop: tokio_util::sync::CancellationToken::new(),
                request,
                sink: None,
                notice: None,
            })
            .await;
        match answer {
            Ok(Ok(c)) if !c.text.trim().is_empty() => {
                descriptions.insert(image.sha256.clone(), c.text.trim().to_owned());
            }
            Ok(Ok(_)) => tracing::warn!(model = %model.model, "the image model answered nothing"),
            Ok(Err(e)) => {
                tracing::warn!(model = %model.model, error = %e, "the image model failed")
            }
            Err(e) => {
                tracing::warn!(model = %model.model, error = %e, "the image model's actor is gone")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(dir: &std::path::Path, name: &str) -> ImagePart {
        let path = dir.join(name);
        std::fs::write(&path, b"\x89PNG fake").unwrap();
        ImagePart {
            mime: "image/png".into(),
            sha256: name.into(),
            size: 9,
            path,
            name: name.into(),
            data: None,
        }
    }

    #[test]
    fn the_current_pictures_and_the_newest_earlier_ones_are_sent() {
        let dir = tempfile::tempdir().unwrap();
        let with = |text: &str, names: &[&str]| {
            let mut m = ChatMessage::user(text);
            m.images = names.iter().map(|n| picture(dir.path(), n)).collect();
            m
        };
        let mut messages = vec![
            ChatMessage::system("s"),
            with("first", &["a.png"]),
            ChatMessage::assistant("ok"),
            with("second", &["b.png"]),
            ChatMessage::assistant("ok"),
            with("now", &["c.png", "d.png"]),
        ];
        load_images(&mut messages, 1);
        assert!(messages[1].images.is_empty());
        assert!(
            messages[1]
                .content
                .contains("[picture a.png: sent earlier, not shown again]")
        );
        assert_eq!(
            messages[3].images.len(),
            1,
            "the newest earlier picture is kept"
        );
        assert_eq!(messages[5].images.len(), 2, "the current turn's always are");
        assert!(messages[5].images.iter().all(|i| i.data.is_some()));

        let descriptions: Descriptions = Arc::default();
        descriptions.insert("c.png".into(), "a cat".into());
        let text = text_only(&messages, &descriptions);
        assert!(text[5].images.is_empty());
        assert!(
            text[5]
                .content
                .contains("[picture c.png, described: a cat]")
        );
        assert!(
            text[5]
                .content
                .contains("[picture d.png: the user sent a picture that this model cannot see")
        );
    }
}
