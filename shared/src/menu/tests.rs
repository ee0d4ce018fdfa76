use serde_json::{json, Value};

use super::*;
use crate::spec::Severity;

/// A menu an H5 account might run: every kind of button the rules treat
/// differently, and one conditional menu. It has no problem at all.
fn good() -> Value {
    json!({
        "button": [
            {"type": "view", "name": "首页", "url": "https://h5.example.com/"},
            {"name": "服务", "sub_button": [
                {"type": "click", "name": "联系客服", "key": "KEFU"},
                {"type": "miniprogram", "name": "小程序", "url": "https://h5.example.com/mp", "appid": "wx286b93c14bbf93aa", "pagepath": "pages/index"},
                {"type": "scancode_waitmsg", "name": "扫码", "key": "SCAN"}
            ]},
            {"type": "article_id", "name": "公告", "article_id": "ARTICLE_ID1"}
        ],
        "conditional": [
            {"button": [{"type": "view", "name": "会员", "url": "https://h5.example.com/vip"}],
             "matchrule": {"tag_id": "100"}}
        ]
    })
}

fn page_domains() -> Vec<DomainCheck<'static>> {
    static ALLOW: fn(&str) -> bool = |host: &str| host == "h5.example.com";
    vec![
        DomainCheck {
            setting: "WXH5_JS_DOMAINS",
            needed_for: "sign wx.config",
            allows: &ALLOW,
        },
        DomainCheck {
            setting: "WXH5_OAUTH_DOMAINS",
            needed_for: "authorize users",
            allows: &ALLOW,
        },
    ]
}

fn run(value: &Value) -> Vec<(String, &'static str, Option<i64>, Severity)> {
    let options = Options {
        page_domains: page_domains(),
    };
    check(value, &options)
        .problems
        .into_iter()
        .map(|p| (p.path, p.rule, p.errcode, p.severity))
        .collect()
}

/// `good()` with the value at `pointer` replaced (or removed when `None`).
fn with(pointer: &str, value: Option<Value>) -> Value {
    let mut menu = good();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = menu
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_string(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key).unwrap_or_else(|| panic!("{pointer}"));
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (Value::Array(items), None) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        (other, _) => panic!("{pointer}: {other}"),
    }
    menu
}

const ERROR: Severity = Severity::Hard;
const WARNING: Severity = Severity::Ambiguous;

fn only(
    menu: &Value,
    path: &str,
    rule: &str,
    errcode: Option<i64>,
    severity: Severity,
) -> Vec<(String, &'static str, Option<i64>, Severity)> {
    let problems = run(menu);
    assert_eq!(
        problems,
        [(path.to_string(), rule, errcode, severity)],
        "expected only {path} {rule}"
    );
    problems
}

#[test]
fn the_sample_menu_has_no_problem_and_the_rows_load() {
    assert_eq!(run(&good()), []);
    let rules = MenuRules::load().unwrap();
    assert_eq!((rules.max_domains, rules.domains_errcode), (3, Some(65316)));
    assert_eq!(rules.daily_quota("menu.create"), Some(2000));
    assert_eq!(rules.daily_quota("menu.trymatch"), Some(20000));
    let file: MenuFile = serde_json::from_value(good()).unwrap();
    assert!(quota_note(&file).contains("1 menu/addconditional"));
}

#[test]
fn each_structural_rule_alone() {
    let four = json!([
        {"type": "click", "name": "a", "key": "a"},
        {"type": "click", "name": "b", "key": "b"},
        {"type": "click", "name": "c", "key": "c"},
        {"type": "click", "name": "d", "key": "d"}
    ]);
    only(
        &with("/button", Some(four)),
        "button",
        "count",
        Some(40016),
        ERROR,
    );
    let six: Vec<Value> = (0..6)
        .map(|i| json!({"type": "click", "name": format!("s{i}"), "key": "k"}))
        .collect();
    only(
        &with("/button/1/sub_button", Some(Value::Array(six))),
        "button[1].sub_button",
        "count",
        Some(40023),
        ERROR,
    );
    only(
        &with("/button/1/type", Some(json!("click"))),
        "button[1].type",
        "forbidden",
        None,
        ERROR,
    );
    only(
        &with("/button/0/type", None),
        "button[0].type",
        "required",
        Some(65308),
        ERROR,
    );
    only(
        &with("/button/1/sub_button/0/type", None),
        "button[1].sub_button[0].type",
        "required",
        Some(40024),
        ERROR,
    );
    only(
        &with("/button/0/type", Some(json!("link"))),
        "button[0].type",
        "one_of",
        Some(40017),
        ERROR,
    );
    only(
        &with("/button/1/sub_button/0/type", Some(json!("news"))),
        "button[1].sub_button[0].type",
        "one_of",
        Some(40024),
        ERROR,
    );
    only(
        &with(
            "/button/1/sub_button/0/sub_button",
            Some(json!([{"type": "click", "name": "x", "key": "x"}])),
        ),
        "button[1].sub_button[0].sub_button",
        "forbidden",
        Some(40022),
        ERROR,
    );
    only(
        &with("/button/0/name", None),
        "button[0].name",
        "required",
        Some(40018),
        ERROR,
    );
    only(
        &with("/button/1/sub_button/2/name", Some(json!(""))),
        "button[1].sub_button[2].name",
        "required",
        Some(40025),
        ERROR,
    );
    // An empty default menu breaks the 1–3 rule (and is empty): 40016 only.
    let empty = run(&json!({"button": []}));
    assert!(!empty.is_empty());
    assert!(empty.iter().all(|p| p.0 == "button" && p.2 == Some(40016)));
}

#[test]
fn each_length_rule_alone() {
    // Five Chinese characters: 15 bytes fit the 16, the client cuts at 4.
    only(
        &with("/button/0/name", Some(json!("我的会员卡"))),
        "button[0].name",
        "max_width",
        None,
        WARNING,
    );
    // Nine under a sub-menu: 27 bytes fit the 60, the client cuts at 8.
    only(
        &with(
            "/button/1/sub_button/0/name",
            Some(json!("联系我们的在线客服呀")),
        ),
        "button[1].sub_button[0].name",
        "max_width",
        None,
        WARNING,
    );
    only(
        &with("/button/1/sub_button/0/key", Some(json!("k".repeat(129)))),
        "button[1].sub_button[0].key",
        "max_bytes",
        Some(40026),
        ERROR,
    );
    let top_click = json!({"type": "click", "name": "签到", "key": "k".repeat(129)});
    only(
        &with("/button/2", Some(top_click)),
        "button[2].key",
        "max_bytes",
        Some(40019),
        ERROR,
    );
    let long = format!("https://h5.example.com/{}", "a".repeat(1002));
    assert_eq!(long.len(), 1025);
    only(
        &with("/button/0/url", Some(json!(long))),
        "button[0].url",
        "max_bytes",
        Some(40020),
        ERROR,
    );
    only(
        &with("/button/1/sub_button/1/url", Some(json!(long))),
        "button[1].sub_button[1].url",
        "max_bytes",
        Some(40027),
        ERROR,
    );
    let exactly = format!("https://h5.example.com/{}", "a".repeat(1001));
    assert_eq!(run(&with("/button/0/url", Some(json!(exactly)))), []);
}

#[test]
fn name_bytes_count_utf8_for_chinese_emoji_and_mixed_names() {
    let top = |name: &str| {
        run(&with("/button/0/name", Some(json!(name))))
            .into_iter()
            .filter(|p| p.3 == ERROR)
            .map(|p| (p.1, p.2))
            .collect::<Vec<_>>()
    };
    let over = [("max_bytes", Some(40018))];
    // Chinese: 3 bytes a character.
    assert_eq!(top("一二三四五"), [], "15 bytes");
    assert_eq!(top("一二三四五六"), over, "18 bytes");
    // Emoji: 4 bytes each; a heart with its variation selector is 6.
    assert_eq!(top("🎵🎵🎵🎵"), [], "16 bytes");
    assert_eq!(top("🎵🎵🎵🎵🎵"), over, "20 bytes");
    assert_eq!(top("❤️❤️❤️"), over, "18 bytes in 3 symbols");
    // Mixed.
    assert_eq!(top("VIP会员中心"), [], "3 + 12 = 15 bytes");
    assert_eq!(top("VIP会员中心!!"), over, "17 bytes");
    assert_eq!(top("a🎵一二三"), [], "1 + 4 + 9 = 14 bytes");
    assert_eq!(top("abcdefghijklmnop"), [], "16 ASCII bytes");
    assert_eq!(top("abcdefghijklmnopq"), over, "17 ASCII bytes");
    // Sub-menu names: 60 bytes.
    let sub = |name: &str| {
        run(&with("/button/1/sub_button/0/name", Some(json!(name))))
            .into_iter()
            .filter(|p| p.3 == ERROR)
            .map(|p| (p.1, p.2))
            .collect::<Vec<_>>()
    };
    assert_eq!(sub(&"一".repeat(20)), [], "60 bytes");
    assert_eq!(sub(&"一".repeat(21)), [("max_bytes", Some(40025))]);
    assert_eq!(sub(&"🎵".repeat(15)), [], "60 bytes");
    assert_eq!(
        sub(&format!("{}a", "🎵".repeat(15))),
        [("max_bytes", Some(40025))]
    );
    // The width warning follows columns, not bytes: 8 ASCII fit, 5 Chinese don't.
    let warnings = |name: &str| {
        run(&with("/button/0/name", Some(json!(name))))
            .into_iter()
            .filter(|p| p.3 == WARNING)
            .count()
    };
    assert_eq!(warnings("ABCDEFGH"), 0);
    assert_eq!(warnings("一二三四"), 0);
    assert_eq!(warnings("一二三四五"), 1);
    assert_eq!(warnings("🎵🎵🎵🎵"), 0);
    assert_eq!(warnings("🎵🎵🎵🎵a"), 1);
}

#[test]
fn every_button_type_needs_its_own_field() {
    // (type, the field it needs, errcode on a top-level button)
    let cases = [
        ("click", "key", Some(40019)),
        ("scancode_push", "key", Some(40019)),
        ("scancode_waitmsg", "key", Some(40019)),
        ("pic_sysphoto", "key", Some(40019)),
        ("pic_photo_or_album", "key", Some(40019)),
        ("pic_weixin", "key", Some(40019)),
        ("location_select", "key", Some(40019)),
        ("view", "url", Some(40020)),
        ("media_id", "media_id", Some(40007)),
        ("view_limited", "media_id", Some(40007)),
        ("miniprogram", "appid", None),
        ("miniprogram", "pagepath", None),
        ("miniprogram", "url", Some(40020)),
        ("article_id", "article_id", None),
        ("article_view_limited", "article_id", None),
    ];
    let full = |kind: &str| {
        json!({"type": kind, "name": "按钮", "key": "K", "url": "https://h5.example.com/x",
               "media_id": "M", "appid": "wx286b93c14bbf93aa", "pagepath": "pages/a", "article_id": "A"})
    };
    for (kind, field, errcode) in cases {
        let mut button = full(kind);
        assert_eq!(
            run(&with("/button/2", Some(button.clone()))),
            [],
            "{kind} with every field"
        );
        button.as_object_mut().unwrap().remove(field);
        only(
            &with("/button/2", Some(button.clone())),
            &format!("button[2].{field}"),
            "required",
            errcode,
            ERROR,
        );
        // The same under a sub-menu (sub-button errcodes for key and url).
        let sub_errcode = match field {
            "key" => Some(40026),
            "url" => Some(40027),
            _ => errcode,
        };
        only(
            &with("/button/1/sub_button/0", Some(button)),
            &format!("button[1].sub_button[0].{field}"),
            "required",
            sub_errcode,
            ERROR,
        );
    }
    // The message says why: the type that needs it.
    let menu = with("/button/0/url", None);
    let problems = check(&menu, &Options::default()).problems;
    assert_eq!(
        problems[0].message,
        "button[0].url is missing (its type is \"view\" and it has no sub_button) (WeChat errcode 40020)."
    );
}

#[test]
fn conditional_menu_rules_alone() {
    for (field, value) in [
        ("sex", "1"),
        ("country", "中国"),
        ("province", "广东"),
        ("city", "广州"),
        ("language", "zh_CN"),
        ("group_id", "2"),
    ] {
        only(
            &with(
                &format!("/conditional/0/matchrule/{field}"),
                Some(json!(value)),
            ),
            &format!("conditional[0].matchrule.{field}"),
            "forbidden",
            Some(65320),
            ERROR,
        );
    }
    only(
        &with("/conditional/0/matchrule", Some(json!({}))),
        "conditional[0].matchrule",
        "required",
        Some(65304),
        ERROR,
    );
    only(
        &with(
            "/conditional/0/matchrule/client_platform_type",
            Some(json!("4")),
        ),
        "conditional[0].matchrule.client_platform_type",
        "one_of",
        None,
        ERROR,
    );
    // Numbers are read as WeChat writes them.
    assert_eq!(
        run(&with(
            "/conditional/0/matchrule",
            Some(json!({"tag_id": 100, "client_platform_type": 2}))
        )),
        []
    );
    // A default menu must exist.
    let mut orphan = good();
    orphan.as_object_mut().unwrap().remove("button");
    only(&orphan, "button", "required", Some(65303), ERROR);
    // At most 3 domains across the conditional menus.
    let menus: Vec<Value> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, host)| {
            json!({"button": [{"type": "view", "name": "页", "url": format!("https://{host}.example.com/")}],
                   "matchrule": {"tag_id": (100 + i).to_string()}})
        })
        .collect();
    let four = with("/conditional", Some(Value::Array(menus.clone())));
    let problems: Vec<_> = run(&four).into_iter().filter(|p| p.3 == ERROR).collect();
    assert_eq!(
        problems,
        [("conditional".into(), "quota", Some(65316), ERROR)]
    );
    let three = with("/conditional", Some(Value::Array(menus[..3].to_vec())));
    assert!(run(&three).iter().all(|p| p.3 == WARNING));
    // The default menu's domains do not count.
    let mut same_host = three.clone();
    same_host["button"][0]["url"] = json!("https://h5.example.com/");
    assert!(run(&same_host).iter().all(|p| p.3 == WARNING));
}

#[test]
fn view_pages_outside_the_page_domains_are_warnings() {
    only(
        &with("/button/0/url", Some(json!("https://shop.example.com/"))),
        "button[0].url",
        "page_domain",
        None,
        WARNING,
    );
    let problems = check(
        &with(
            "/button/0/url",
            Some(json!("https://Shop.example.com:8443/a")),
        ),
        &Options {
            page_domains: page_domains(),
        },
    )
    .problems;
    assert_eq!(
        problems[0].message,
        "button[0].url opens a page on shop.example.com, which is not in WXH5_JS_DOMAINS nor WXH5_OAUTH_DOMAINS: the page could not sign wx.config or authorize users there [a warning]."
    );
    // WeChat's OAuth entry is judged by the page it sends the follower to.
    let entry = "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1&redirect_uri=https%3A%2F%2Fh5.example.com%2Fme&response_type=code&scope=snsapi_base#wechat_redirect";
    assert_eq!(run(&with("/button/0/url", Some(json!(entry)))), []);
    let elsewhere = entry.replace("h5.example.com", "evil.example.net");
    only(
        &with("/button/0/url", Some(json!(elsewhere))),
        "button[0].url",
        "page_domain",
        None,
        WARNING,
    );
    // Not a view (a mini program's fallback page): not checked.
    assert_eq!(
        run(&with(
            "/button/1/sub_button/1/url",
            Some(json!("https://other.example.com/"))
        )),
        []
    );
    // In a conditional menu too.
    only(
        &with(
            "/conditional/0/button/0/url",
            Some(json!("http://other.example.com/vip")),
        ),
        "conditional[0].button[0].url",
        "page_domain",
        None,
        WARNING,
    );
    assert_eq!(host_of("https://user@[::1]:8080/x"), Some("::1".into()));
    assert_eq!(host_of("ftp://h5.example.com/"), None);
}

#[test]
fn unknown_fields_and_wrong_types_have_paths() {
    only(
        &with("/button/1/sub_button/0/nmae", Some(json!("x"))),
        "button[1].sub_button[0].nmae",
        "unknown_field",
        None,
        ERROR,
    );
    only(
        &with("/conditional/0/matchrule/tagid", Some(json!("1"))),
        "conditional[0].matchrule.tagid",
        "unknown_field",
        None,
        ERROR,
    );
    only(
        &with("/button/0/name", Some(json!(5))),
        "button[0].name",
        "type",
        None,
        ERROR,
    );
    let bad = parse("{\"button\": [", Format::Json).unwrap_err();
    assert_eq!(bad.rule, "syntax");
    let toml = parse(
        "[[button]]\ntype = \"view\"\nname = \"首页\"\nurl = \"https://h5.example.com/\"\n",
        Format::Toml,
    )
    .unwrap();
    assert_eq!(run(&toml), []);
    assert_eq!(Format::of_path("menu.TOML"), Format::Toml);
}

#[test]
fn every_problem_is_reported_in_one_pass() {
    let menu = json!({
        "button": [
            {"type": "view", "name": "一二三四五六", "url": "https://shop.example.com/"},
            {"type": "click", "name": "服务", "sub_button": [
                {"name": "无类型"},
                {"type": "click", "name": "x", "key": "k".repeat(129)},
                {"type": "view", "name": "y", "url": "https://h5.example.com/", "sub_button": [{"name": "z"}]}
            ]},
            {"type": "teleport", "name": "传送", "colour": "red"},
            {"type": "view", "name": "四"}
        ],
        "conditional": [
            {"button": [{"type": "click", "name": "会员", "key": "VIP"}], "matchrule": {"sex": "1"}}
        ]
    });
    let problems = run(&menu);
    let errors: Vec<(&str, &str)> = problems
        .iter()
        .filter(|p| p.3 == ERROR)
        .map(|p| (p.0.as_str(), p.1))
        .collect();
    for expected in [
        ("button[2].colour", "unknown_field"),
        ("button", "count"),
        ("button[0].name", "max_bytes"),
        ("button[1].type", "forbidden"),
        ("button[1].sub_button[0].type", "required"),
        ("button[1].sub_button[1].key", "max_bytes"),
        ("button[1].sub_button[2].sub_button", "forbidden"),
        ("button[2].type", "one_of"),
        ("button[3].url", "required"),
        ("conditional[0].matchrule.sex", "forbidden"),
    ] {
        assert!(errors.contains(&expected), "{expected:?} in {errors:?}");
    }
    assert_eq!(errors.len(), 10, "{errors:?}");
    let warnings: Vec<(&str, &str)> = problems
        .iter()
        .filter(|p| p.3 == WARNING)
        .map(|p| (p.0.as_str(), p.1))
        .collect();
    assert_eq!(
        warnings,
        [
            ("button[0].name", "max_width"),
            ("button[0].url", "page_domain")
        ]
    );
    let checked = check(&menu, &Options::default());
    assert!(checked.valid().is_none());
    let answer = CheckAnswer::new(&checked);
    assert!(!answer.valid);
    assert_eq!(answer.errors, 10);
}

fn file(value: Value) -> MenuFile {
    serde_json::from_value(value).unwrap()
}

#[test]
fn a_plan_shows_exactly_the_change_made() {
    let live = file(good());
    assert!(plan(&live, &live).is_empty());
    assert_eq!(
        plan(&live, &live).render(),
        "No changes: the live menus are what the file says.\n"
    );
    // One sub-button renamed.
    let mut renamed = good();
    renamed["button"][1]["sub_button"][0]["name"] = json!("人工客服");
    let changed = plan(&live, &file(renamed));
    assert!(changed.create_default);
    assert_eq!(
        changed.default,
        [Diff {
            op: Op::Change,
            path: "button[1].sub_button[0].name".into(),
            detail: "\"联系客服\" → \"人工客服\"".into(),
        }]
    );
    assert_eq!((changed.keep, changed.conditional.len()), (1, 0));
    assert_eq!(
        changed.render(),
        "default menu (menu/create):\n  ~ button[1].sub_button[0].name \"联系客服\" → \"人工客服\"\n"
    );
    // A sub-button added, one removed at the end.
    let mut added = good();
    added["button"][1]["sub_button"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "click", "name": "签到", "key": "SIGN"}));
    let grown = plan(&live, &file(added));
    assert_eq!(
        grown.default,
        [Diff {
            op: Op::Add,
            path: "button[1].sub_button[3]".into(),
            detail: "\"签到\" (click SIGN)".into(),
        }]
    );
    let shrunk = plan(&file(grown_file()), &live);
    assert_eq!(shrunk.default[0].op, Op::Remove);
    // Only the conditional menu's rule changes: the default stays, the menu
    // is added under its new rule and the old one deleted.
    let mut retagged = good();
    retagged["conditional"][0]["matchrule"] = json!({"tag_id": "101"});
    let moved = plan(&live, &file(retagged));
    assert!(!moved.create_default);
    assert_eq!(moved.keep, 0);
    let ops: Vec<(Op, &str)> = moved
        .conditional
        .iter()
        .map(|m| (m.op, m.rule.as_str()))
        .collect();
    assert_eq!(ops, [(Op::Add, "tag_id=101"), (Op::Remove, "tag_id=100")]);
    // A button of a conditional menu changed: that menu is replaced.
    let mut vip = good();
    vip["conditional"][0]["button"][0]["url"] = json!("https://h5.example.com/vip2");
    let replaced = plan(&live, &file(vip));
    assert_eq!(replaced.conditional.len(), 1);
    assert_eq!(replaced.conditional[0].op, Op::Change);
    assert_eq!(
        replaced.conditional[0].changes,
        [Diff {
            op: Op::Change,
            path: "button[0].url".into(),
            detail: "\"https://h5.example.com/vip\" → \"https://h5.example.com/vip2\"".into(),
        }]
    );
    assert!(replaced.render().contains("~ [tag_id=100] replaced"));
}

fn grown_file() -> Value {
    let mut grown = good();
    grown["button"][1]["sub_button"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "click", "name": "签到", "key": "SIGN"}));
    grown
}

#[test]
fn what_wechat_lists_plans_as_no_change() {
    // menu/get adds `sub_button: []` everywhere and every matchrule field
    // as "": read back, it is the same file.
    let listed = json!({
        "button": [
            {"type": "view", "name": "首页", "url": "https://h5.example.com/", "sub_button": []},
            {"name": "服务", "sub_button": [
                {"type": "click", "name": "联系客服", "key": "KEFU", "sub_button": []},
                {"type": "miniprogram", "name": "小程序", "url": "https://h5.example.com/mp", "appid": "wx286b93c14bbf93aa", "pagepath": "pages/index", "sub_button": []},
                {"type": "scancode_waitmsg", "name": "扫码", "key": "SCAN", "sub_button": []}
            ]},
            {"type": "article_id", "name": "公告", "article_id": "ARTICLE_ID1", "sub_button": []}
        ],
        "conditional": [
            {"button": [{"type": "view", "name": "会员", "url": "https://h5.example.com/vip", "sub_button": []}],
             "matchrule": {"tag_id": "100", "sex": "", "country": "", "province": "", "city": "", "client_platform_type": "", "language": "", "group_id": ""}}
        ]
    });
    assert!(plan(&file(listed), &file(good())).is_empty());
    // And the model writes the file back without WeChat's empty fields.
    let written = serde_json::to_value(file(good())).unwrap();
    assert_eq!(written, good());
}

#[test]
fn toml_files_read_as_the_same_model() {
    let text = r#"
[[button]]
type = "view"
name = "首页"
url = "https://h5.example.com/"

[[button]]
name = "服务"

[[button.sub_button]]
type = "click"
name = "联系客服"
key = "KEFU"

[[conditional]]
matchrule = { tag_id = "100" }

[[conditional.button]]
type = "view"
name = "会员"
url = "https://h5.example.com/vip"
"#;
    let value = parse(text, Format::Toml).unwrap();
    let checked = check(&value, &Options::default());
    assert_eq!(checked.problems, []);
    let model = checked.file.unwrap();
    assert_eq!(model.button[1].sub_button[0].key.as_deref(), Some("KEFU"));
    assert_eq!(
        model.conditional[0].matchrule.tag_id.as_deref(),
        Some("100")
    );
    // Written back as TOML, it reads as the same model.
    let again = toml::to_string_pretty(&model).unwrap();
    let reread: MenuFile = serde_json::from_value(parse(&again, Format::Toml).unwrap()).unwrap();
    assert_eq!(reread, model);
}
