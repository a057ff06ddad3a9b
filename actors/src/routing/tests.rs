//! Table tests for the routing rules: every row of the session-key tables, binding precedence
//! conflicts, and id normalisation.

use std::path::Path;

use super::*;
use crate::config::{MapEnv, load_str};

/// Two agents, two accounts (bot1, bot2) with the given connector settings and bindings.
fn routes(connector_extra: &str, bindings: &str, session: &str) -> Routes {
    let text = format!(
        r#"{{
          agents: {{ list: [ {{ id: "main" }}, {{ id: "a" }}, {{ id: "b" }}, {{ id: "c" }} ] }},
          session: {{ {session} }},
          channels: {{ "dingtalk-connector": {{
            clientSecret: "s3cret-value",
            {connector_extra}
            accounts: {{ bot1: {{ clientId: "id1" }}, bot2: {{ clientId: "id2" }}, default: {{ clientId: "id0" }} }},
          }} }},
          bindings: [ {bindings} ],
        }}"#
    );
    let loaded = load_str(&text, Path::new("/"), &MapEnv::new())
        .unwrap_or_else(|e| panic!("config should load: {e}"));
    Routes::new(&loaded.config)
}

fn key(r: &Routes, account: &str, chat: ChatType, cid: &str, sender: &str) -> String {
    r.route(&Inbound {
        channel: "dingtalk-connector",
        account,
        chat,
        conversation_id: cid,
        sender_id: sender,
    })
    .session_key
    .to_string()
}

const BIND_A: &str =
    r#"{ agentId: "a", match: { channel: "dingtalk-connector", accountId: "*" } }"#;

#[test]
fn session_keys_for_every_flag_combination() {
    use ChatType::{Direct, Group};
    // (connector settings, DM key, group key) for a DM from Li_Lei and a group message from
    // Li_Lei in group cidAbC==, on account bot1, answered by agent a.
    let rows = [
        (
            "",
            "agent:a:dingtalk-connector:direct:Li_Lei",
            "agent:a:dingtalk-connector:group:cidAbC==",
        ),
        (
            r#"groupSessionScope: "group","#,
            "agent:a:dingtalk-connector:direct:Li_Lei",
            "agent:a:dingtalk-connector:group:cidAbC==",
        ),
        (
            r#"groupSessionScope: "group_sender","#,
            "agent:a:dingtalk-connector:direct:Li_Lei",
            "agent:a:dingtalk-connector:group:cidAbC==:Li_Lei",
        ),
        (
            "sharedMemoryAcrossConversations: true,",
            "agent:a:dingtalk-connector:shared:bot1",
            "agent:a:dingtalk-connector:shared:bot1",
        ),
        (
            r#"sharedMemoryAcrossConversations: true, groupSessionScope: "group_sender","#,
            "agent:a:dingtalk-connector:shared:bot1",
            "agent:a:dingtalk-connector:shared:bot1",
        ),
        (
            "separateSessionByConversation: false,",
            "agent:a:dingtalk-connector:sender:Li_Lei",
            "agent:a:dingtalk-connector:sender:Li_Lei",
        ),
        (
            r#"separateSessionByConversation: false, groupSessionScope: "group_sender","#,
            "agent:a:dingtalk-connector:sender:Li_Lei",
            "agent:a:dingtalk-connector:sender:Li_Lei",
        ),
        (
            "separateSessionByConversation: false, sharedMemoryAcrossConversations: true,",
            "agent:a:dingtalk-connector:shared:bot1",
            "agent:a:dingtalk-connector:shared:bot1",
        ),
    ];
    for (settings, dm, group) in rows {
        let r = routes(settings, BIND_A, "");
        assert_eq!(
            key(&r, "bot1", Direct, "cidDm1", "Li_Lei"),
            dm,
            "DM with {settings:?}"
        );
        assert_eq!(
            key(&r, "bot1", Group, "cidAbC==", "Li_Lei"),
            group,
            "group with {settings:?}"
        );
    }
}

#[test]
fn dm_scope_rows() {
    use ChatType::Direct;
    let rows = [
        ("", "agent:a:dingtalk-connector:direct:u1"),
        (
            r#"dmScope: "per-channel-peer""#,
            "agent:a:dingtalk-connector:direct:u1",
        ),
        (r#"dmScope: "main""#, "agent:a:main"),
        (r#"dmScope: "main", scope: "global""#, "agent:a:global"),
        (r#"dmScope: "per-peer""#, "agent:a:direct:u1"),
        (
            r#"dmScope: "per-account-channel-peer""#,
            "agent:a:dingtalk-connector:bot2:direct:u1",
        ),
    ];
    for (session, want) in rows {
        let r = routes("", BIND_A, session);
        assert_eq!(
            key(&r, "bot2", Direct, "cid", "u1"),
            want,
            "session {{ {session} }}"
        );
    }
}

#[test]
fn group_scope_main_and_binding_overrides() {
    use ChatType::{Direct, Group};
    let r = routes("", BIND_A, r#"groupScope: "main""#);
    assert_eq!(key(&r, "bot1", Group, "cid1", "u1"), "agent:a:main");
    let bind = r#"{ agentId: "a", match: { channel: "dingtalk-connector", accountId: "*" },
                    session: { dmScope: "per-peer", groupScope: "main" } }"#;
    let r = routes("", bind, "");
    assert_eq!(key(&r, "bot1", Direct, "cid", "u1"), "agent:a:direct:u1");
    assert_eq!(key(&r, "bot1", Group, "cid1", "u1"), "agent:a:main");
}

#[test]
fn dingtalk_ids_keep_their_case_and_are_not_merged() {
    use ChatType::Group;
    let r = routes("", BIND_A, "");
    let upper = key(&r, "bot1", Group, "cidABC==", "u");
    let lower = key(&r, "bot1", Group, "cidabc==", "u");
    assert_ne!(upper, lower);
    assert_eq!(upper, "agent:a:dingtalk-connector:group:cidABC==");
}

#[test]
fn identity_links_merge_a_person_under_a_lowercase_canonical_name() {
    use ChatType::Direct;
    let r = routes(
        "",
        BIND_A,
        r#"identityLinks: { Alice: ["dingtalk-connector:Manager807", "u2"] }"#,
    );
    assert_eq!(
        key(&r, "bot1", Direct, "c", "Manager807"),
        "agent:a:dingtalk-connector:direct:alice"
    );
    assert_eq!(
        key(&r, "bot1", Direct, "c", "U2"),
        "agent:a:dingtalk-connector:direct:alice"
    );
    assert_eq!(
        key(&r, "bot1", Direct, "c", "u3"),
        "agent:a:dingtalk-connector:direct:u3"
    );
    // dmScope main ignores links.
    let r = routes(
        "",
        BIND_A,
        r#"dmScope: "main", identityLinks: { alice: ["u2"] }"#,
    );
    assert_eq!(key(&r, "bot1", Direct, "c", "u2"), "agent:a:main");
}

#[test]
fn missing_ids_fall_back_as_the_connector_does() {
    use ChatType::{Direct, Group};
    let r = routes("", BIND_A, "");
    assert_eq!(key(&r, "bot1", Direct, "c", ""), "agent:a:main");
    assert_eq!(
        key(&r, "bot1", Group, "", "u9"),
        "agent:a:dingtalk-connector:group:u9"
    );
    assert_eq!(
        key(&r, "bot1", Group, "", ""),
        "agent:a:dingtalk-connector:group:unknown"
    );
}

fn decide(
    r: &Routes,
    account: &str,
    chat: ChatType,
    cid: &str,
    sender: &str,
) -> (String, &'static str) {
    let route = r.route(&Inbound {
        channel: "dingtalk-connector",
        account,
        chat,
        conversation_id: cid,
        sender_id: sender,
    });
    (route.agent_id, route.matched_by.as_str())
}

#[test]
fn tiers_win_in_order_regardless_of_config_order() {
    use ChatType::{Direct, Group};
    let bindings = r#"
        { agentId: "c", match: { channel: "dingtalk-connector", accountId: "*" } },
        { agentId: "b", match: { channel: "dingtalk-connector", accountId: "bot1" } },
        { agentId: "a", match: { channel: "dingtalk-connector", accountId: "bot1", peer: { kind: "group", id: "cidVIP" } } },
        { agentId: "main", match: { channel: "dingtalk-connector", accountId: "bot1", peer: { kind: "direct", id: "*" } } },
    "#;
    let r = routes("", bindings, "");
    assert_eq!(
        decide(&r, "bot1", Group, "cidVIP", "u"),
        ("a".into(), "binding.peer")
    );
    assert_eq!(
        decide(&r, "bot1", Direct, "cidX", "u"),
        ("main".into(), "binding.peer.wildcard")
    );
    assert_eq!(
        decide(&r, "bot1", Group, "cidOther", "u"),
        ("b".into(), "binding.account")
    );
    assert_eq!(
        decide(&r, "bot2", Group, "cidVIP", "u"),
        ("c".into(), "binding.channel")
    );
}

#[test]
fn within_a_tier_the_first_binding_wins() {
    use ChatType::Group;
    let bindings = r#"
        { agentId: "a", match: { channel: "dingtalk-connector", accountId: "bot1" } },
        { agentId: "b", match: { channel: "dingtalk-connector", accountId: "bot1" } },
        { agentId: "c", match: { channel: "dingtalk-connector", accountId: "*", peer: { kind: "group", id: "g" } } },
        { agentId: "a", match: { channel: "dingtalk-connector", accountId: "bot1", peer: { kind: "group", id: "g" } } },
    "#;
    let r = routes("", bindings, "");
    assert_eq!(
        decide(&r, "bot1", Group, "x", "u"),
        ("a".into(), "binding.account")
    );
    // A "*" peer binding earlier in the file beats an account-scoped one later in the file.
    assert_eq!(
        decide(&r, "bot1", Group, "g", "u"),
        ("c".into(), "binding.peer")
    );
}

#[test]
fn binding_without_account_matches_only_the_default_account() {
    use ChatType::Group;
    let bindings = r#"{ agentId: "b", match: { channel: "dingtalk-connector" } }"#;
    let r = routes("", bindings, "");
    assert_eq!(
        decide(&r, "default", Group, "g", "u"),
        ("b".into(), "binding.account")
    );
    assert_eq!(
        decide(&r, "bot1", Group, "g", "u"),
        ("main".into(), "default")
    );
}

#[test]
fn peer_kinds_and_ids_must_match_exactly() {
    use ChatType::{Direct, Group};
    let bindings = r#"
        { agentId: "a", match: { channel: "dingtalk-connector", accountId: "*", peer: { kind: "group", id: "cidABC" } } },
        { agentId: "b", match: { channel: "dingtalk-connector", accountId: "*", peer: { kind: "channel", id: "cidCH" } } },
    "#;
    let r = routes("", bindings, "");
    assert_eq!(decide(&r, "bot1", Group, "cidABC", "u").1, "binding.peer");
    assert_eq!(decide(&r, "bot1", Group, "cidabc", "u").1, "default");
    // A DM whose sender id equals a group binding's id is not that group.
    assert_eq!(decide(&r, "bot1", Direct, "x", "cidABC").1, "default");
    // group and channel kinds are the same for matching.
    assert_eq!(
        decide(&r, "bot1", Group, "cidCH", "u"),
        ("b".into(), "binding.peer")
    );
}

#[test]
fn ids_in_bindings_and_messages_are_normalised() {
    use ChatType::Group;
    let bindings =
        r#"{ agentId: "B", match: { channel: "DingTalk-Connector", accountId: " Bot1 " } }"#;
    let r = routes("", bindings, "");
    assert_eq!(
        decide(&r, "BOT1", Group, "g", "u"),
        ("b".into(), "binding.account")
    );
    assert_eq!(
        key(&r, "BOT1", Group, "g", "u"),
        "agent:b:dingtalk-connector:group:g"
    );
}

#[test]
fn other_channels_and_guild_bindings_never_match() {
    use ChatType::Group;
    let bindings = r#"
        { agentId: "a", match: { channel: "telegram", accountId: "*" } },
        { agentId: "b", match: { channel: "dingtalk-connector", accountId: "*", guildId: "g1" } },
        { agentId: "c", match: { channel: "dingtalk-connector", accountId: "*", peer: { kind: "group", id: "g" }, teamId: "t" } },
    "#;
    let r = routes("", bindings, "");
    assert_eq!(
        decide(&r, "bot1", Group, "g", "u"),
        ("main".into(), "default")
    );
}

#[test]
fn default_agent_is_marked_then_first_then_main() {
    use ChatType::Group;
    let load = |agents: &str| {
        let text = format!("{{ agents: {{ list: [{agents}] }} }}");
        Routes::new(
            &load_str(&text, Path::new("/"), &MapEnv::new())
                .unwrap()
                .config,
        )
    };
    let r = load(r#"{ id: "x" }, { id: "y", default: true }"#);
    assert_eq!(
        decide(&r, "default", Group, "g", "u"),
        ("y".into(), "default")
    );
    let r = load(r#"{ id: "x" }, { id: "y" }"#);
    assert_eq!(
        decide(&r, "default", Group, "g", "u"),
        ("x".into(), "default")
    );
    let r = Routes::new(
        &load_str("{}", Path::new("/"), &MapEnv::new())
            .unwrap()
            .config,
    );
    assert_eq!(
        decide(&r, "default", Group, "g", "u"),
        ("main".into(), "default")
    );
}

#[test]
fn policies_refuse_with_a_reason() {
    let text = r#"{ channels: { "dingtalk-connector": { clientId: "i", clientSecret: "s",
        dmPolicy: "allowlist", allowFrom: ["Boss"], groupPolicy: "allowlist", groupAllowFrom: ["cidOK"] } } }"#;
    let config = load_str(text, Path::new("/"), &MapEnv::new())
        .unwrap()
        .config;
    let account = config.account("default").unwrap();
    assert_eq!(admit(account, ChatType::Direct, "c", "Boss"), Ok(()));
    assert_eq!(
        admit(account, ChatType::Direct, "c", "boss"),
        Err(Refusal::SenderNotAllowed)
    );
    assert_eq!(admit(account, ChatType::Group, "cidOK", "x"), Ok(()));
    assert_eq!(
        admit(account, ChatType::Group, "cidNO", "x"),
        Err(Refusal::GroupNotAllowed)
    );
    let text = r#"{ channels: { "dingtalk-connector": { clientId: "i", clientSecret: "s", groupPolicy: "disabled" } } }"#;
    let config = load_str(text, Path::new("/"), &MapEnv::new())
        .unwrap()
        .config;
    assert_eq!(
        admit(
            config.account("default").unwrap(),
            ChatType::Group,
            "g",
            "x"
        ),
        Err(Refusal::GroupsDisabled)
    );
}

#[test]
fn require_mention_drops_unmentioned_group_messages_where_asked() {
    let text = r#"{ channels: { "dingtalk-connector": { clientId: "i", clientSecret: "s",
        requireMention: true, groups: { cidChatty: { requireMention: false } } } } }"#;
    let config = load_str(text, Path::new("/"), &MapEnv::new())
        .unwrap()
        .config;
    let account = config.account("default").unwrap();
    assert!(mention_ok(account, "cidAny", true));
    assert!(!mention_ok(account, "cidAny", false));
    assert!(
        mention_ok(account, "cidChatty", false),
        "the group's own rule wins"
    );
    let open = load_str(
        r#"{ channels: { "dingtalk-connector": { clientId: "i", clientSecret: "s" } } }"#,
        Path::new("/"),
        &MapEnv::new(),
    )
    .unwrap()
    .config;
    assert!(mention_ok(
        open.account("default").unwrap(),
        "cidAny",
        false
    ));
}
