//! Pictures, files, voice and quotes through the whole gateway: the simulator serves the
//! files behind `messageFiles/download`, the gateway downloads and reads them, and the offline
//! model reports what reached it (picture parts with their size and hash, files' extracted
//! lengths). Back out: pictures and files the answer names are uploaded and sent, a "thinking"
//! reaction is put on and taken off, and named group members are @-mentioned.

mod support;

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw::sim::media::TINY_PNG;
use dingclaw::sim::model::{Attachment, NewUser, UserMessage};
use sha2::Digest;
use support::gateway::{Harness, TEST_ACCOUNT, To, test_sim};

/// A gateway with agent `a` on `bot1`, whose model is `offline/<model>`; `vl` is declared to
/// take pictures.
async fn start(model: &str, extra: &str) -> Harness {
    let text = format!(
        r#"{{ agents: {{ {extra} list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "offline/{model}" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "mediabot1", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "test-key",
               models: [ {{ id: "vl", input: ["text", "image"] }}, {{ id: "plain", input: ["text"] }} ] }} }} }},
             dingclaw: {{ store: "memory" }} }}"#
    );
    Harness::start_with(&text, ModelOptions::default(), test_sim()).await
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha8(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A user message with a file.
fn with_file(
    h: &Harness,
    from: &str,
    msgtype: &str,
    name: &str,
    attachment: Attachment,
) -> UserMessage {
    UserMessage {
        from: from.into(),
        bot: Some(h.client_id("bot1")),
        text: name.into(),
        msgtype: Some(msgtype.into()),
        attachment: Some(Attachment {
            name: Some(name.into()),
            ..attachment
        }),
        ..UserMessage::default()
    }
}

async fn ask_with(h: &Harness, msg: UserMessage) -> String {
    let sent = h.sim.sim.say(&msg).await.expect("accepted");
    h.answered(&sent, 1).await.remove(0).text
}

fn data(bytes: &[u8]) -> Attachment {
    Attachment {
        data_base64: Some(b64(bytes)),
        ..Attachment::default()
    }
}

#[actix_rt::test]
async fn a_picture_reaches_a_vision_model_as_an_image_and_a_quote_brings_it_back() {
    let h = start("vl", "").await;
    let first = h
        .sim
        .sim
        .say(&with_file(
            &h,
            "alice",
            "picture",
            "screenshot.png",
            data(TINY_PNG),
        ))
        .await
        .unwrap();
    let reply = h.answered(&first, 1).await.remove(0).text;
    let want = format!(
        "images: image/png {} bytes sha256:{}",
        TINY_PNG.len(),
        sha8(TINY_PNG)
    );
    assert!(reply.contains(&want), "{reply}");
    // Kept for the workspace's file tools too.
    let copied = h.state.path().join("ws/inbox");
    assert!(copied.exists());

    // A text that quotes the picture: the quote block, and the picture again.
    let reply = ask_with(
        &h,
        UserMessage {
            from: "alice".into(),
            bot: Some(h.client_id("bot1")),
            text: "What does it say?".into(),
            quote: Some(first.msg_id.clone()),
            ..UserMessage::default()
        },
    )
    .await;
    assert!(reply.contains("[quoting an earlier message]"), "{reply}");
    assert!(reply.contains("What does it say?"), "{reply}");
    assert!(
        reply.contains(&want),
        "the quoted picture reached the model: {reply}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn an_anthropic_messages_model_gets_the_picture_as_an_image_block() {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "claude-like/k2-vision" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "mediabot1", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{ "claude-like": {{ baseUrl: "${{MODEL_ROOT}}", apiKey: "k",
                 api: "anthropic-messages", models: [ {{ id: "k2-vision", input: ["text", "image"] }} ] }} }} }},
             dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start_with(&text, ModelOptions::default(), test_sim()).await;
    let reply = ask_with(
        &h,
        with_file(&h, "alice", "picture", "chart.png", data(TINY_PNG)),
    )
    .await;
    // The offline model's Messages endpoint reports the `image` blocks it was given.
    let want = format!(
        "images: image/png {} bytes sha256:{}",
        TINY_PNG.len(),
        sha8(TINY_PNG)
    );
    assert!(reply.contains(&want), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_text_only_model_is_told_about_the_picture_or_given_a_description() {
    let h = start("plain", "").await;
    let reply = ask_with(
        &h,
        with_file(&h, "alice", "picture", "photo.png", data(TINY_PNG)),
    )
    .await;
    assert!(!reply.contains("images:"), "no image part: {reply}");
    assert!(
        reply.contains("the user sent a picture that this model cannot see"),
        "{reply}"
    );
    h.stop().await;

    let h = start("plain", r#"defaults: { imageModel: "offline/vl" },"#).await;
    let reply = ask_with(
        &h,
        with_file(&h, "alice", "picture", "photo.png", data(TINY_PNG)),
    )
    .await;
    assert!(
        reply.contains("described: [assistant · vl · turn 1] You said: Describe this picture"),
        "{reply}"
    );
    assert_eq!(h.model.stats.requests_for("vl"), 1, "one description");
    // The description is remembered: the same picture again costs no second call.
    let reply = ask_with(
        &h,
        with_file(&h, "alice", "picture", "again.png", data(TINY_PNG)),
    )
    .await;
    assert!(reply.contains("described:"), "{reply}");
    assert_eq!(h.model.stats.requests_for("vl"), 1);
    h.stop().await;
}

/// A PDF with one line of text in Helvetica.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 18 Tf 72 700 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A zip with these files.
fn zipped(files: &[(&str, String)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    for (name, content) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
        .collect();
    zipped(&[
        ("[Content_Types].xml", r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.to_owned()),
        ("word/document.xml", format!(r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#)),
    ])
}

fn xlsx(rows: &[(&str, &str)]) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let cells: String = rows
        .iter()
        .enumerate()
        .map(|(i, (a, b))| {
            format!(r#"<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{a}</t></is></c><c r="B{n}" t="inlineStr"><is><t>{b}</t></is></c></row>"#, n = i + 1)
        })
        .collect();
    zipped(&[
        (
            "[Content_Types].xml",
                r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
            .to_owned(),
        ),
        (
            "_rels/.rels",
            format!(
                r#"<?xml version="1.0"?><Relationships xmlns="{REL}"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="销售" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<?xml version="1.0"?><Relationships xmlns="{REL}"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>"#
            ),
        ),
    ])
}

#[actix_rt::test]
async fn pdf_docx_xlsx_and_gbk_text_are_read_for_the_model() {
    let h = start("plain", "").await;
    let (gbk, _, _) = encoding_rs::GBK
        .encode("会议纪要：周四下午三点在二楼会议室讨论季度预算，请各部门准时参加。");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "report.pdf",
            pdf("Quarterly revenue grew 42 percent"),
            "Quarterly revenue grew 42 percent",
        ),
        (
            "plan.docx",
            docx(&["项目计划", "第一阶段：调研"]),
            "第一阶段：调研",
        ),
        (
            "sales.xlsx",
            xlsx(&[("城市", "销量"), ("杭州", "128")]),
            "杭州\t128",
        ),
        ("minutes.txt", gbk.into_owned(), "周四下午三点在二楼会议室"),
    ];
    for (name, bytes, want) in cases {
        let reply = ask_with(&h, with_file(&h, "alice", "file", name, data(&bytes))).await;
        assert!(reply.contains(want), "{name}: {reply}");
        assert!(
            reply.contains(&format!("files: {name} ")),
            "{name}: {reply}"
        );
        let copy = h.state.path().join("ws/inbox");
        let found = walk(&copy).into_iter().any(|p| p.ends_with(name));
        assert!(found, "{name} was copied into the workspace");
    }
    h.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[actix_rt::test]
async fn a_huge_file_an_expired_code_and_a_failing_download_become_notes() {
    let h = start("plain", "").await;
    let huge = Attachment {
        size: Some(200 * 1024 * 1024),
        ..Attachment::default()
    };
    let reply = ask_with(&h, with_file(&h, "alice", "file", "backup.zip", huge)).await;
    assert!(
        reply.contains(
            "[file backup.zip was not downloaded: it is 200.0 MB, over the 20.0 MB limit]"
        ),
        "{reply}"
    );
    let expired = Attachment {
        expired: true,
        ..data(b"old")
    };
    let reply = ask_with(&h, with_file(&h, "alice", "file", "old.txt", expired)).await;
    assert!(
        reply.contains("[file old.txt could not be downloaded: DingTalk would not give it"),
        "{reply}"
    );
    assert!(reply.contains("expired"), "{reply}");
    let failing = Attachment {
        fail: true,
        ..data(b"x")
    };
    let reply = ask_with(&h, with_file(&h, "alice", "file", "broken.txt", failing)).await;
    assert!(
        reply.contains("[file broken.txt could not be downloaded"),
        "{reply}"
    );
    // A voice message: DingTalk's transcript is the text, the audio is kept.
    let voice = UserMessage {
        from: "alice".into(),
        bot: Some(h.client_id("bot1")),
        text: "明天提醒我开会".into(),
        msgtype: Some("audio".into()),
        ..UserMessage::default()
    };
    let reply = ask_with(&h, voice).await;
    assert!(reply.contains("You said: 明天提醒我开会"), "{reply}");
    assert!(
        walk(&h.state.path().join("ws/inbox"))
            .iter()
            .any(|p| p.to_string_lossy().contains("voice"))
    );
    h.stop().await;
}

#[actix_rt::test]
async fn the_answer_sends_a_picture_and_a_file_mentions_people_and_reacts_while_working() {
    let h = start("plain", "").await;
    let ws = h.state.path().join("ws");
    std::fs::create_dir_all(ws.join("out")).unwrap();
    std::fs::write(ws.join("out/chart.png"), TINY_PNG).unwrap();
    std::fs::write(ws.join("out/summary.txt"), "summary of the week").unwrap();
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Text {
            text: "Here is the chart and the summary.\nMEDIA: ./out/chart.png\nMEDIA: out/summary.txt\nMEDIA: /etc/passwd".into(),
        },
    }]);
    let sent = h.say("alice", To::Dm("bot1"), "send me the report").await;
    let conversation = sent.conversation_id.clone();
    let sim = h.sim.sim.clone();
    support::wait_until("the picture and the file", Duration::from_secs(15), || {
        let log = sim.conversation(&conversation);
        log.iter().any(|e| e.msgtype == "image")
            && log.iter().any(|e| e.msgtype == "file")
            && log.iter().filter(|e| e.via != "user").count() >= 4
    })
    .await;
    let log = h.sim.sim.conversation(&conversation);
    let text = log
        .iter()
        .find(|e| e.msgtype == "text" && e.via != "user")
        .unwrap();
    assert_eq!(text.text, "Here is the chart and the summary.");
    let image = log.iter().find(|e| e.msgtype == "image").unwrap();
    let media = image.media.as_ref().expect("the uploaded picture");
    assert_eq!(media.size, TINY_PNG.len() as u64);
    let file = log.iter().find(|e| e.msgtype == "file").unwrap();
    assert_eq!(file.text, "summary.txt");
    assert_eq!(
        file.media.as_ref().unwrap().size,
        "summary of the week".len() as u64
    );
    let refused = log
        .iter()
        .find(|e| e.text.contains("Could not send /etc/passwd"))
        .expect("a word about the refused path");
    assert!(
        refused.text.contains("only files in the workspace"),
        "{}",
        refused.text
    );

    // The reaction went on the message and came off it.
    let reactions: Vec<_> = h
        .sim
        .sim
        .reactions()
        .into_iter()
        .filter(|r| r.msg_id == sent.msg_id)
        .collect();
    let actions: Vec<&str> = reactions.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["reply", "recall"], "{reactions:?}");
    assert_eq!(reactions[0].emotion_name, "思考中");

    // In a group, a member the answer names is @-mentioned.
    for (id, name) in [("alice", "Alice"), ("bob", "Bob")] {
        h.sim.sim.add_user(NewUser {
            user_id: Some(id.into()),
            name: Some(name.into()),
            external: false,
        });
    }
    let group = h.group(&["bot1"], &["alice", "bob"]);
    h.ask(
        "bob",
        To::Group(&group, &["bot1"]),
        "I will take the budget.",
    )
    .await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Text {
            text: "@Bob please send the budget to Alice.".into(),
        },
    }]);
    let sent = h
        .say("alice", To::Group(&group, &["bot1"]), "who has the budget?")
        .await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert!(reply.at_user_ids.contains(&"bob".to_owned()), "{reply:?}");
    assert!(
        reply.at_user_ids.contains(&"alice".to_owned()),
        "the sender too: {reply:?}"
    );
    assert!(reply.text.contains("@bob please send"), "{}", reply.text);
    h.stop().await;
}
