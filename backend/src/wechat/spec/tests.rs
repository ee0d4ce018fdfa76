use serde_json::json;

use super::*;

fn limit<'a>(endpoint: &'a str, field: &str, rule: &str) -> Vec<&'a Limit> {
    spec()
        .named(endpoint)
        .limits
        .iter()
        .filter(|l| l.field == field && l.rule.name() == rule)
        .collect()
}

fn hard(endpoint: &str, field: &str, rule: &str) -> Rule {
    let found: Vec<&Limit> = limit(endpoint, field, rule)
        .into_iter()
        .filter(|l| l.severity == Severity::Hard)
        .collect();
    assert_eq!(found.len(), 1, "{endpoint} {field} {rule}");
    found[0].rule.clone()
}

#[test]
fn the_table_loads_and_every_errcode_has_a_class_and_a_message() {
    let spec = Spec::load().expect("the table loads");
    assert!(
        spec.endpoints.len() >= 90,
        "{} endpoints",
        spec.endpoints.len()
    );
    assert!(
        spec.errcodes.len() >= 120,
        "{} errcodes",
        spec.errcodes.len()
    );
    for code in spec.errcodes.values() {
        assert!(
            code.message.len() >= 15,
            "{} has no real message",
            code.code
        );
        assert!(!code.errmsg.is_empty(), "{}", code.code);
        assert!(code.source.starts_with("https://"), "{}", code.code);
        // The operator sentence is what clients see: it never repeats
        // WeChat's errmsg placeholder for the caller's IP.
        assert!(!code.message.contains("{ip}"), "{}", code.code);
        match code.class {
            ClassName::Removed => {
                assert!(
                    code.since.is_some() && code.replacement.is_some(),
                    "{}",
                    code.code
                )
            }
            ClassName::Unknown => panic!("{} is classed unknown", code.code),
            _ => {}
        }
    }
    // The classes the issue names, on the codes it names.
    let class = |code| spec.errcode(code).unwrap().class;
    for (codes, expected) in [
        (&[-1, 45011, 45066][..], ClassName::Retryable),
        (&[45009, 48006], ClassName::Quota),
        (&[48001, 65400, 88000], ClassName::Permission),
        (&[43004, 43101, 45015, 45047], ClassName::RecipientState),
        (
            &[40016, 40018, 40027, 47003, 65320],
            ClassName::InvalidInput,
        ),
        (&[45103, 45106, 45109], ClassName::Removed),
        (&[40001, 40013, 40125, 40164, 89503], ClassName::Credentials),
    ] {
        for code in codes {
            assert_eq!(class(*code), expected, "{code}");
        }
    }
    assert_eq!(spec.errcode(45066).unwrap().retry_after_secs, Some(60));
    for code in 40016..=40027 {
        if code != 40021 && code != 40022 {
            assert_eq!(class(code), ClassName::InvalidInput, "{code}");
        }
    }
}

#[test]
fn every_endpoint_is_complete_and_every_limit_cites_its_source() {
    for e in &spec().endpoints {
        assert!(e.path.starts_with('/'), "{}", e.name);
        assert!(e.doc.starts_with("https://"), "{}", e.name);
        assert!(!e.accounts.is_empty(), "{}", e.name);
        assert!(e.summary.len() > 10, "{}", e.name);
        if e.host == Host::Api && e.auth != Auth::Sns {
            let bare = e.path.trim_start_matches('/');
            assert!(
                spec().forwardable(bare),
                "{} is outside the families",
                e.name
            );
        }
        for l in &e.limits {
            assert!(l.source.starts_with("https://"), "{} {}", e.name, l.field);
            assert_eq!(l.read.len(), 10, "{} {}: read date", e.name, l.field);
            if l.severity == Severity::Ambiguous {
                assert!(
                    l.note.is_some(),
                    "{} {}: an ambiguous limit says why",
                    e.name,
                    l.field
                );
            }
        }
    }
    // Every area of the research notes is in the table.
    for area in [
        "token",
        "oauth",
        "ops",
        "menus",
        "template",
        "subscribe",
        "subscribe_once",
        "kf",
        "users",
        "media",
        "material",
        "drafts",
        "publish",
        "mass",
        "comments",
    ] {
        assert!(spec().endpoints.iter().any(|e| e.area == area), "{area}");
    }
}

#[test]
fn a_sample_of_limits_matches_the_cited_docs() {
    // Menus: api_createcustommenu.
    assert_eq!(
        hard("menu.create", "button[].name", "max_bytes"),
        Rule::MaxBytes { max: 16 }
    );
    assert_eq!(
        hard("menu.create", "button[].sub_button[].name", "max_bytes"),
        Rule::MaxBytes { max: 60 }
    );
    assert_eq!(
        hard("menu.create", "button[].key", "max_bytes"),
        Rule::MaxBytes { max: 128 }
    );
    assert_eq!(
        hard("menu.create", "button[].url", "max_bytes"),
        Rule::MaxBytes { max: 1024 }
    );
    assert_eq!(
        hard("menu.create", "button", "count"),
        Rule::Count { min: 1, max: 3 }
    );
    assert_eq!(
        hard("menu.create", "button[].sub_button", "count"),
        Rule::Count { min: 0, max: 5 }
    );
    let Rule::OneOf { values } = hard("menu.create", "button[].type", "one_of") else {
        panic!()
    };
    assert_eq!(
        values.len(),
        13,
        "12 types plus media_id/view_limited's pair"
    );
    assert!(values.iter().any(|v| v == "article_view_limited"));
    // Conditional menus: the 40-byte contradiction is kept as a warning.
    let sub = limit(
        "menu.addconditional",
        "button[].sub_button[].name",
        "max_bytes",
    );
    assert_eq!(sub.len(), 2);
    assert!(sub
        .iter()
        .any(|l| l.rule == Rule::MaxBytes { max: 40 } && l.severity == Severity::Ambiguous));
    assert_eq!(
        hard("menu.addconditional", "matchrule.sex", "forbidden"),
        Rule::Forbidden
    );
    // Subscribe notifications: thing ≤ 20 characters, character_string ≤ 32.
    assert_eq!(
        hard("subscribe.send", "data.thing*.value", "max_chars"),
        Rule::MaxChars { max: 20 }
    );
    assert_eq!(
        hard(
            "subscribe.send",
            "data.character_string*.value",
            "max_chars"
        ),
        Rule::MaxChars { max: 32 }
    );
    assert_eq!(
        hard("subscribe.send", "data.phrase*.value", "max_chars"),
        Rule::MaxChars { max: 5 }
    );
    // One-time subscribe: title 15 characters, content 200, reserved 128 bytes.
    assert_eq!(
        hard("subscribe_once.send", "title", "max_chars"),
        Rule::MaxChars { max: 15 }
    );
    assert_eq!(
        hard("subscribe_once.send", "data.content.value", "max_chars"),
        Rule::MaxChars { max: 200 }
    );
    assert_eq!(
        hard("subscribe_once.send", "scene", "range"),
        Rule::Range { min: 0, max: 10000 }
    );
    assert_eq!(
        hard("subscribe_once.authorize", "query.reserved", "max_bytes"),
        Rule::MaxBytes { max: 128 }
    );
    // Mass send: clientmsgid ≤ 64 bytes (45067), 2-10,000 openids.
    assert_eq!(
        hard("mass.send_by_tag", "clientmsgid", "max_bytes"),
        Rule::MaxBytes { max: 64 }
    );
    assert_eq!(
        hard("mass.send_by_openid", "touser", "count"),
        Rule::Count { min: 2, max: 10000 }
    );
    // Comments: count under 50.
    assert_eq!(
        hard("comment.list", "count", "range"),
        Rule::Range { min: 1, max: 49 }
    );
    // Customer service: 5 within 48 h, 3 within a minute.
    let windows: Vec<Rule> = limit("kf.send", "", "quota")
        .into_iter()
        .filter(|l| l.severity == Severity::Hard)
        .map(|l| l.rule.clone())
        .collect();
    assert!(windows.contains(&Rule::Quota {
        max: 5,
        per: "48h".into()
    }));
    assert!(windows.contains(&Rule::Quota {
        max: 3,
        per: "minute".into()
    }));
    // Temporary media: image 10 MB (hard) and 2 MB (the same page, a warning).
    let images: Vec<&Limit> = limit("media.upload", "media", "file_size")
        .into_iter()
        .filter(|l| matches!(&l.rule, Rule::FileSize { media, .. } if media == "image"))
        .collect();
    assert_eq!(images.len(), 2);
    assert!(images.iter().any(|l| l.rule
        == Rule::FileSize {
            media: "image".into(),
            max: 10 * 1024 * 1024
        }
        && l.severity == Severity::Hard));
    assert!(images.iter().any(|l| l.rule
        == Rule::FileSize {
            media: "image".into(),
            max: 2 * 1024 * 1024
        }
        && l.severity == Severity::Ambiguous));
    assert_eq!(
        spec().named("media.upload").max_upload_bytes(),
        Some(10 * 1024 * 1024)
    );
    // Drafts: title 32 characters, and the 2 KB / 1 MB contradiction on content.
    assert_eq!(
        hard("draft.add", "articles[].title", "max_chars"),
        Rule::MaxChars { max: 32 }
    );
    assert!(limit("draft.add", "articles[].content", "max_bytes")
        .iter()
        .any(|l| l.rule == Rule::MaxBytes { max: 2048 } && l.severity == Severity::Ambiguous));
    // Tags: 30 bytes, 50 openids.
    assert_eq!(
        hard("tags.create", "tag.name", "max_bytes"),
        Rule::MaxBytes { max: 30 }
    );
    assert_eq!(
        hard("tags.tag_users", "openid_list", "count"),
        Rule::Count { min: 1, max: 50 }
    );
    // Withdrawn endpoints carry their replacement.
    let removed = spec().named("material.add_news").removed.clone().unwrap();
    assert_eq!(
        (removed.since.as_str(), removed.errcode),
        ("2022-03", 45103)
    );
    assert_eq!(
        spec()
            .named("template.uniform_send")
            .removed
            .as_ref()
            .unwrap()
            .errcode,
        45109
    );
}

#[test]
fn validation_reports_each_broken_rule_with_its_path_and_errcode() {
    let menu = spec().named("menu.create");
    let ok = json!({"button":[{"type":"click","name":"今日歌曲","key":"V1001"},{"name":"菜单","sub_button":[{"type":"view","name":"搜索","url":"https://h5.example.com/"}]}]});
    assert!(menu.validate(Some(&ok), &[]).iter().all(|p| !p.is_error()));
    let bad = json!({"button":[
        {"type":"click","name":"今日歌曲今日歌曲","key":"k"},
        {"type":"clack","name":"x","key":"k".repeat(129)},
        {"name":"菜单","sub_button":[{"type":"view","name":"搜","url":format!("https://h5.example.com/{}", "a".repeat(1100))},{"type":"click","name":"s","key":"k","sub_button":[]}]},
        {"type":"view","name":"four","url":"https://x"}
    ]});
    let problems = menu.validate(Some(&bad), &[]);
    let errors: Vec<(&str, &str, Option<i64>)> = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| (p.path.as_str(), p.rule, p.errcode))
        .collect();
    assert!(
        errors.contains(&("button", "count", Some(40016))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("button[0].name", "max_bytes", Some(40018))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("button[1].type", "one_of", Some(40017))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("button[1].key", "max_bytes", Some(40019))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&("button[2].sub_button[0].url", "max_bytes", Some(40027))),
        "{errors:?}"
    );
    assert!(
        errors.contains(&(
            "button[2].sub_button[1].sub_button",
            "forbidden",
            Some(40022)
        )),
        "{errors:?}"
    );
    // 今日歌曲今日歌曲 is 24 bytes and also 16 columns: the width rule is a warning.
    let width = problems
        .iter()
        .find(|p| p.path == "button[0].name" && p.rule == "max_width")
        .unwrap();
    assert!(!width.is_error());
    assert!(width.message.contains("warning"), "{}", width.message);
    // Five Chinese characters: 15 bytes fit, the display cuts: warning only.
    let five = json!({"button":[{"type":"click","name":"今日的歌曲","key":"k"}]});
    let p = menu.validate(Some(&five), &[]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].rule, p[0].severity),
        ("max_width", Severity::Ambiguous)
    );
    assert!(menu
        .validate(None, &[])
        .iter()
        .any(|p| p.path == "button" && p.rule == "required"));

    let conditional = spec().named("menu.addconditional");
    let privacy = json!({"button":[{"type":"click","name":"a","key":"k"}],"matchrule":{"sex":"1","tag_id":"2"}});
    assert!(conditional
        .validate(Some(&privacy), &[])
        .iter()
        .any(|p| p.path == "matchrule.sex" && p.errcode == Some(65320) && p.is_error()));

    let bizsend = spec().named("subscribe.send");
    let data = json!({"touser":"o","template_id":"t","data":{
        "thing1":{"value":"一二三四五六七八九十一二三四五六七八九十一"},
        "character_string2":{"value":"订单A1"},
        "thing3":{"value":"短"},
        "number4":{"value":"12.5"}
    }});
    let errors: Vec<(String, &str)> = bizsend
        .validate(Some(&data), &[])
        .into_iter()
        .filter(|p| p.is_error())
        .map(|p| (p.path, p.rule))
        .collect();
    assert_eq!(
        errors,
        [
            ("data.thing1.value".to_string(), "max_chars"),
            ("data.character_string2.value".to_string(), "charset")
        ]
    );

    let comments = spec().named("comment.list");
    let p = comments.validate(Some(&json!({"msg_data_id":1,"begin":0,"count":50})), &[]);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].path.as_str(), p[0].errcode), ("count", Some(88010)));

    let upload = spec().named("media.upload");
    let query = [("type".to_string(), "doc".to_string())];
    assert!(upload
        .validate(None, &query)
        .iter()
        .any(|p| p.path == "query.type" && p.rule == "one_of"));
    let problems = upload.check_upload("image", "a.png", 3 * 1024 * 1024);
    assert_eq!(
        problems.len(),
        1,
        "only the ambiguous 2 MB limit: {problems:?}"
    );
    assert!(!problems[0].is_error());
    let problems = upload.check_upload("thumb", "a.png", 70_000);
    assert_eq!(
        problems.iter().filter(|p| p.is_error()).count(),
        2,
        "{problems:?}"
    );
}

#[test]
fn display_width_counts_chinese_twice() {
    assert_eq!(display_width("abc"), 3);
    assert_eq!(display_width("今日歌曲"), 8);
    assert_eq!(display_width("菜单A"), 5);
}

#[test]
fn the_gateway_families_exclude_sns() {
    let spec = spec();
    assert!(spec.forwardable("cgi-bin/menu/create"));
    assert!(spec.forwardable("wxaapi/newtmpl/gettemplate"));
    assert!(spec.forwardable("customservice/kfaccount/add"));
    assert!(!spec.forwardable("sns/userinfo"));
    assert!(!spec.forwardable("sns/oauth2/access_token"));
    assert!(!spec.forwardable("admin/secret"));
    assert!(!spec.forwardable(""));
}

#[test]
fn the_committed_reference_page_is_current() {
    let page = reference::render(spec());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(reference::PATH);
    if std::env::var_os("WXH5_BLESS").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == page,
        "{} is stale: run `cargo run -p wxh5-backend -- reference > {}` (or WXH5_BLESS=1 cargo test -p wxh5-backend --lib spec) and commit it",
        reference::PATH,
        reference::PATH
    );
}

/// Every keyword kind of `keywords.toml`, each with values on both sides
/// of its rule, in Chinese, emoji and Latin letters: what subscribe
/// notifications and template messages refuse before sending (47003).
#[test]
fn every_keyword_kind_is_checked_on_both_sides_of_its_limit() {
    let rep = |s: &str, n: usize| s.repeat(n);
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<String>, Vec<String>)> = vec![
        ("thing",
            vec![rep("一", 20), rep("😀", 20), rep("a", 20), "订单A1😀!".into()],
            vec![rep("一", 21), rep("😀", 21), rep("a", 21)]),
        ("number",
            vec![rep("1", 32), "12.50".into(), "0".into()],
            vec![rep("1", 33), "一".into(), "😀".into(), "abc".into(), "1.2.3".into()]),
        ("letter",
            vec![rep("a", 32), "Ab".into()],
            vec![rep("a", 33), "一".into(), "😀".into(), "a1".into()]),
        ("symbol",
            vec!["!@#$%".into(), "-".into()],
            vec!["!@#$%^".into(), "一".into(), "😀".into(), "a".into()]),
        ("character_string",
            vec![rep("A", 32), "A1-_#".into()],
            vec![rep("A", 33), "订单1".into(), "😀".into(), "a b".into()]),
        ("time",
            vec!["15:01".into(), "9:05".into(), "2019年10月1日 15:01".into(), "15:01~16:00".into(), "2019-10-01 08:00:30".into()],
            vec!["25:00".into(), "15:1".into(), "下午三点".into(), "😀".into(), "15:01~16:00~17:00".into(), "2019年10月1日".into()]),
        ("date",
            vec!["2019年10月1日".into(), "2019-10-01".into(), "2019年10月1日 15:01".into(), "2019年10月1日~2019年10月7日".into()],
            vec!["10月1日".into(), "2019年13月1日".into(), "tomorrow".into(), "😀".into(), "2019-10-01 24:00".into()]),
        ("amount",
            vec!["¥8.50".into(), "100元".into(), "1234567890".into(), "$12.5".into()],
            vec!["12345678901".into(), "8.505".into(), "八块".into(), "😀".into(), "¥".into(), "8.".into()]),
        ("phone_number",
            vec!["+86-0766-66888866".into(), "10086".into()],
            vec!["+86-0766-668888661".into(), "电话10086".into(), "😀".into(), "1 2".into()]),
        ("car_number",
            vec!["粤A8Z888挂".into(), "粤A12345".into()],
            vec!["粤A8Z888挂1".into(), "A粤123".into(), "😀1234".into(), "粤A-123".into()]),
        ("name",
            vec!["张三".into(), rep("一", 10), rep("a", 20), "张三abc".into(), "John Smith".into()],
            vec![rep("一", 11), rep("a", 21), "张三abcdefghi".into(), "😀".into()]),
        ("phrase",
            vec!["配送中".into(), rep("一", 5)],
            vec![rep("一", 6), "abc".into(), "😀".into(), "配送中1".into()]),
        ("const",
            vec![rep("一", 20), rep("a", 20)],
            vec![rep("一", 21), rep("a", 21), rep("😀", 21)]),
    ];
    let mut tested: Vec<&str> = cases.iter().map(|(k, _, _)| *k).collect();
    tested.sort();
    let mut kinds: Vec<&str> = spec().keyword_kinds.iter().map(String::as_str).collect();
    kinds.sort();
    assert_eq!(tested, kinds, "every kind of keywords.toml is tested");
    for endpoint in ["subscribe.send", "template.send"] {
        let endpoint = spec().named(endpoint);
        for (kind, good, bad) in &cases {
            let key = format!("{kind}7");
            let path = format!("data.{key}.value");
            let errors = |value: &str| -> Vec<Problem> {
                let body =
                    json!({"touser":"o","template_id":"t","data":{key.clone():{"value":value}}});
                endpoint
                    .validate(Some(&body), &[])
                    .into_iter()
                    .filter(|p| p.is_error() && p.path == path)
                    .collect()
            };
            for value in good {
                let found = errors(value);
                assert!(
                    found.is_empty(),
                    "{}: {kind} {value:?} is fine: {found:?}",
                    endpoint.name
                );
            }
            for value in bad {
                let found = errors(value);
                assert!(
                    !found.is_empty(),
                    "{}: {kind} {value:?} is refused",
                    endpoint.name
                );
                assert!(found.iter().all(|p| p.errcode == Some(47003)), "{found:?}");
                assert!(found[0].message.contains(&path), "{}", found[0].message);
            }
        }
    }
    // The kind of a keyword is its name's prefix, numbers after it.
    assert_eq!(spec().keyword_kind("thing12"), Some("thing"));
    assert_eq!(
        spec().keyword_kind("character_string3"),
        Some("character_string")
    );
    assert_eq!(spec().keyword_kind("phone_number1"), Some("phone_number"));
    assert_eq!(spec().keyword_kind("keyword1"), None);
    assert_eq!(spec().keyword_kind("first"), None);
}

/// Template messages: the fields WeChat hides since 2023 are warnings,
/// never errors, and each names its rule.
#[test]
fn template_fields_wechat_ignores_are_warnings() {
    let body = json!({"touser":"o","template_id":"t","data":{
        "first":{"value":"您好"},
        "thing1":{"value":"好消息🎉","color":"#FF0000"},
        "remark":{"value":"谢谢"}
    }});
    let problems = spec().named("template.send").validate(Some(&body), &[]);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    let rules: Vec<(&str, &str)> = problems.iter().map(|p| (p.path.as_str(), p.rule)).collect();
    for expected in [
        ("data.first", "forbidden"),
        ("data.remark", "forbidden"),
        ("data.thing1.color", "forbidden"),
        ("data.thing1.value", "charset"),
    ] {
        assert!(rules.contains(&expected), "{expected:?} in {rules:?}");
    }
}
