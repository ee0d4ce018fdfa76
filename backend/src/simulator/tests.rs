//! The simulator answers every endpoint with the spec table's rules and
//! errcodes, and keeps what it remembers bounded.

use std::{net::SocketAddr, time::Duration};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request},
    Router,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::*;
use crate::wechat::rid_in;

struct Sim {
    sim: Simulator,
    router: Router,
}

impl Sim {
    fn new() -> Self {
        let sim = Simulator::new(SimulatorConfig::random());
        Self {
            router: sim.router(),
            sim,
        }
    }

    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> Value {
        let peer: SocketAddr = "192.0.2.7:5555".parse().unwrap();
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    async fn token(&self) -> String {
        let config = self.sim.config();
        let answer = self
            .call(
                Method::POST,
                "/cgi-bin/stable_token",
                Some(json!({"grant_type":"client_credential","appid":config.app_id,"secret":config.secret})),
            )
            .await;
        answer["access_token"].as_str().unwrap().to_string()
    }
}

fn errcode(v: &Value) -> i64 {
    v["errcode"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn generic_endpoints_keep_the_tables_rules_and_errcodes() {
    let s = Sim::new();
    let token = s.token().await;
    let menu = format!("/cgi-bin/menu/create?access_token={token}");
    let ok = json!({"button":[{"type":"click","name":"今日歌曲","key":"K"}]});
    assert_eq!(
        errcode(&s.call(Method::POST, &menu, Some(ok.clone())).await),
        0
    );
    // Each broken rule answers the errcode the table gives it.
    let long = json!({"button":[{"type":"click","name":"一二三四五六","key":"K"}]});
    let answer = s.call(Method::POST, &menu, Some(long)).await;
    assert_eq!(errcode(&answer), 40018);
    let rid = rid_in(answer["errmsg"].as_str().unwrap()).expect("errors carry a rid");
    assert!(answer["errmsg"]
        .as_str()
        .unwrap()
        .starts_with("invalid button name size"));
    let four = json!({"button":[{"type":"click","name":"a","key":"K"},{"type":"click","name":"b","key":"K"},{"type":"click","name":"c","key":"K"},{"type":"click","name":"d","key":"K"}]});
    assert_eq!(
        errcode(&s.call(Method::POST, &menu, Some(four)).await),
        40016
    );
    assert_eq!(errcode(&s.call(Method::GET, &menu, None).await), 43002);
    assert_eq!(
        errcode(
            &s.call(Method::POST, "/cgi-bin/menu/create", Some(ok.clone()))
                .await
        ),
        41001
    );
    assert_eq!(
        errcode(
            &s.call(
                Method::POST,
                "/cgi-bin/menu/create?access_token=nope",
                Some(ok)
            )
            .await
        ),
        40001
    );
    let privacy = json!({"button":[{"type":"click","name":"a","key":"K"}],"matchrule":{"sex":"1"}});
    let conditional = format!("/cgi-bin/menu/addconditional?access_token={token}");
    assert_eq!(
        errcode(&s.call(Method::POST, &conditional, Some(privacy)).await),
        65320
    );
    let bizsend = format!("/cgi-bin/message/subscribe/bizsend?access_token={token}");
    let thing = json!({"touser":"o","template_id":"t","data":{"thing1":{"value":"一二三四五六七八九十一二三四五六七八九十一"}}});
    assert_eq!(
        errcode(&s.call(Method::POST, &bizsend, Some(thing)).await),
        47003
    );
    let add_news = format!("/cgi-bin/material/add_news?access_token={token}");
    assert_eq!(
        errcode(
            &s.call(Method::POST, &add_news, Some(json!({"articles":[]})))
                .await
        ),
        45103
    );
    let comments = format!("/cgi-bin/comment/list?access_token={token}");
    let fifty = json!({"msg_data_id":1,"begin":0,"count":50});
    assert_eq!(
        errcode(&s.call(Method::POST, &comments, Some(fifty)).await),
        88010
    );
    assert_eq!(
        errcode(
            &s.call(Method::POST, &comments, Some(json!("not an object")))
                .await
        ),
        47001
    );
    let empty = s.call(Method::POST, &comments, None).await;
    assert_eq!(errcode(&empty), 44002);
    // A subscription account may not send template messages.
    s.sim.set_account_type(AccountType::Subscription);
    let send = format!("/cgi-bin/message/template/send?access_token={token}");
    let template = json!({"touser":"o","template_id":"t","data":{}});
    assert_eq!(
        errcode(&s.call(Method::POST, &send, Some(template)).await),
        48001
    );
    // The recorded rid tells what happened.
    let rid_get = format!("/cgi-bin/openapi/rid/get?access_token={token}");
    let info = s
        .call(Method::POST, &rid_get, Some(json!({"rid": rid})))
        .await;
    assert_eq!(info["request"]["client_ip"], "192.0.2.7");
    assert!(info["request"]["response_body"]
        .as_str()
        .unwrap()
        .contains("40018"));
    assert_eq!(
        errcode(
            &s.call(Method::POST, &rid_get, Some(json!({"rid":"00000000-1-2"})))
                .await
        ),
        76001
    );
    assert!(s.sim.tokens_seen("/cgi-bin/menu/create").contains(&token));
}

#[tokio::test]
async fn quotas_are_counted_limited_reported_and_reset() {
    let s = Sim::new();
    let token = s.token().await;
    s.sim.set_daily_limit("/cgi-bin/get_api_domain_ip", 2);
    let path = format!("/cgi-bin/get_api_domain_ip?access_token={token}");
    assert!(s.call(Method::GET, &path, None).await["ip_list"].is_array());
    assert!(s.call(Method::GET, &path, None).await["ip_list"].is_array());
    assert_eq!(errcode(&s.call(Method::GET, &path, None).await), 45009);
    let quota = format!("/cgi-bin/openapi/quota/get?access_token={token}");
    let q = s
        .call(
            Method::POST,
            &quota,
            Some(json!({"cgi_path":"/cgi-bin/get_api_domain_ip"})),
        )
        .await;
    assert_eq!(q["quota"], json!({"daily_limit":2,"used":3,"remain":0}));
    assert_eq!(
        errcode(
            &s.call(Method::POST, &quota, Some(json!({"cgi_path":"/nope"})))
                .await
        ),
        76021
    );
    assert_eq!(
        errcode(
            &s.call(
                Method::POST,
                &quota,
                Some(json!({"cgi_path":"/sns/userinfo"}))
            )
            .await
        ),
        76022
    );
    let clear = format!("/cgi-bin/clear_quota?access_token={token}");
    let app_id = s.sim.config().app_id;
    assert_eq!(
        errcode(
            &s.call(Method::POST, &clear, Some(json!({"appid": app_id})))
                .await
        ),
        0
    );
    assert!(s.call(Method::GET, &path, None).await["ip_list"].is_array());
    assert_eq!(
        errcode(
            &s.call(Method::POST, &clear, Some(json!({"appid":"wxother"})))
                .await
        ),
        40013
    );
    // Ten resets a month, v2 included.
    let config = s.sim.config();
    let v2 = json!({"appid": config.app_id, "appsecret": config.secret});
    for _ in 0..9 {
        assert_eq!(
            errcode(
                &s.call(Method::POST, "/cgi-bin/clear_quota/v2", Some(v2.clone()))
                    .await
            ),
            0
        );
    }
    assert_eq!(
        errcode(
            &s.call(Method::POST, "/cgi-bin/clear_quota/v2", Some(v2))
                .await
        ),
        48006
    );
}

#[tokio::test]
async fn the_ip_whitelist_answers_40164_naming_the_caller() {
    let s = Sim::new();
    s.sim
        .set_ip_whitelist(Some(vec!["198.51.100.1".parse().unwrap()]));
    let config = s.sim.config();
    let answer = s
        .call(
            Method::POST,
            "/cgi-bin/stable_token",
            Some(json!({"grant_type":"client_credential","appid":config.app_id,"secret":config.secret})),
        )
        .await;
    assert_eq!(errcode(&answer), 40164);
    assert!(
        answer["errmsg"]
            .as_str()
            .unwrap()
            .contains("invalid ip 192.0.2.7"),
        "{answer}"
    );
    s.sim.set_ip_whitelist(None);
    assert!(!s.token().await.is_empty());
}

#[tokio::test]
async fn injected_errcodes_carry_the_tables_errmsg_and_the_callers_ip() {
    let s = Sim::new();
    let token = s.token().await;
    s.sim
        .inject("/cgi-bin/getcallbackip", Fault::Errcode(40164), 1);
    let path = format!("/cgi-bin/getcallbackip?access_token={token}");
    let answer = s.call(Method::GET, &path, None).await;
    assert_eq!(errcode(&answer), 40164);
    assert!(answer["errmsg"].as_str().unwrap().contains("192.0.2.7"));
    let ips = s.call(Method::GET, &path, None).await;
    assert!(ips["ip_list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|ip| ip == "127.0.0.1"));
}

#[test]
fn every_map_the_simulator_keeps_is_bounded() {
    let sim = Simulator::new(SimulatorConfig::random());
    for _ in 0..MAX_ENTRIES + 25 {
        sim.issue_code(0, "snsapi_base");
    }
    assert_eq!(sim.oauth().codes.len(), MAX_ENTRIES);
    let mut world = sim.world();
    for _ in 0..MAX_ENTRIES + 25 {
        Simulator::issue_token(&mut world, Duration::from_secs(7200));
    }
    assert!(world.tokens.len() <= MAX_ENTRIES);
    for i in 0..MAX_RIDS + 5 {
        world.record_rid(
            format!("{i}"),
            RidInfo {
                invoke_time: 0,
                cost_in_ms: 0,
                request_url: String::new(),
                request_body: String::new(),
                response_body: String::new(),
                client_ip: String::new(),
            },
        );
    }
    assert_eq!(world.rids.len(), MAX_RIDS);
    for i in 0..SEEN_PER_PATH + 5 {
        world.saw("/x", &i.to_string());
    }
    assert_eq!(world.seen["/x"].len(), SEEN_PER_PATH);
}

#[test]
fn every_pushing_menu_button_makes_the_push_wechat_sends() {
    use crate::callback::{Event, Message, MessageKind};
    use wxh5_shared::menu::Button;

    let button = |kind: &str| Button {
        kind: Some(kind.into()),
        name: Some("按钮".into()),
        key: Some("K1".into()),
        url: Some("https://h5.example.com/a".into()),
        appid: Some("wx286b93c14bbf93aa".into()),
        pagepath: Some("pages/index".into()),
        media_id: Some("M".into()),
        article_id: Some("A".into()),
        ..Button::default()
    };
    let event = |kind: &str| {
        let xml = menus::menu_event_xml(&button(kind), "oUSER", "wxsim").expect(kind);
        let message = Message::parse(&xml).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        assert_eq!(message.from_user, "oUSER");
        match message.kind {
            MessageKind::Event(event) => event,
            other => panic!("{kind}: {other:?}"),
        }
    };
    assert!(matches!(event("click"), Event::Click { key } if key == "K1"));
    assert!(matches!(event("view"), Event::View { url, .. } if url == "https://h5.example.com/a"));
    assert!(matches!(event("scancode_push"), Event::ScancodePush { key, .. } if key == "K1"));
    assert!(matches!(event("scancode_waitmsg"), Event::ScancodeWaitmsg { key, .. } if key == "K1"));
    assert!(matches!(event("pic_sysphoto"), Event::PicSysphoto { key, .. } if key == "K1"));
    assert!(
        matches!(event("pic_photo_or_album"), Event::PicPhotoOrAlbum { key, .. } if key == "K1")
    );
    assert!(matches!(event("pic_weixin"), Event::PicWeixin { key, .. } if key == "K1"));
    assert!(
        matches!(event("location_select"), Event::LocationSelect { key, location } if key == "K1" && location.label == "广州市海珠区")
    );
    assert!(
        matches!(event("miniprogram"), Event::ViewMiniprogram { page_path, .. } if page_path == "pages/index")
    );
    // These open something inside WeChat and push nothing.
    for quiet in [
        "media_id",
        "view_limited",
        "article_id",
        "article_view_limited",
    ] {
        assert_eq!(
            menus::menu_event_xml(&button(quiet), "oUSER", "wxsim"),
            None,
            "{quiet}"
        );
    }
}

// The simulator's lifetimes (its rules, tested as the oracle they are). The
// clock is tokio's, paused: `advance` moves it without waiting.

impl Sim {
    /// A stable_token answer, forced or not.
    async fn stable_token(&self, force_refresh: bool) -> Value {
        let config = self.sim.config();
        self.call(
            Method::POST,
            "/cgi-bin/stable_token",
            Some(json!({
                "grant_type": "client_credential",
                "appid": config.app_id,
                "secret": config.secret,
                "force_refresh": force_refresh,
            })),
        )
        .await
    }

    /// The errcode of a ticket request made with `token` (0 when accepted).
    async fn token_accepted(&self, token: &str) -> i64 {
        errcode(
            &self
                .call(
                    Method::GET,
                    &format!("/cgi-bin/ticket/getticket?access_token={token}&type=jsapi"),
                    None,
                )
                .await,
        )
    }

    /// Exchanges an OAuth `code` and answers the errcode (0 on success).
    async fn exchange(&self, code: &str) -> i64 {
        let config = self.sim.config();
        errcode(
            &self
                .call(
                    Method::GET,
                    &format!(
                        "/sns/oauth2/access_token?appid={}&secret={}&code={code}&grant_type=authorization_code",
                        config.app_id, config.secret
                    ),
                    None,
                )
                .await,
        )
    }
}

fn access_token_of(answer: &Value) -> String {
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {answer}"))
        .to_string()
}

#[test]
fn the_renewal_window_is_wechats_five_minutes_or_a_third_of_a_short_test_lifetime() {
    assert_eq!(
        super::cgi::renewal_window(Duration::from_secs(7200)),
        Duration::from_secs(300)
    );
    assert_eq!(
        super::cgi::renewal_window(Duration::from_secs(60)),
        Duration::from_secs(20)
    );
}

#[tokio::test(start_paused = true)]
async fn stable_token_is_reused_until_five_minutes_before_expiry_and_the_old_one_lives_to_its_expiry(
) {
    let sim = Sim::new();
    let first = sim.stable_token(false).await;
    assert_eq!(first["expires_in"], 7200);
    let a = access_token_of(&first);

    tokio::time::advance(Duration::from_secs(7200 - 301)).await;
    let again = sim.stable_token(false).await;
    assert_eq!(access_token_of(&again), a, "301 s left: the same token");
    assert_eq!(again["expires_in"], 301);

    tokio::time::advance(Duration::from_secs(2)).await;
    let renewed = sim.stable_token(false).await;
    let b = access_token_of(&renewed);
    assert_ne!(b, a, "299 s left: a successor");
    assert_eq!(renewed["expires_in"], 7200);
    assert_eq!(sim.token_accepted(&a).await, 0, "the old token still works");

    tokio::time::advance(Duration::from_secs(299)).await;
    assert_eq!(sim.token_accepted(&a).await, 42001, "the old token expired");
    assert_eq!(sim.token_accepted(&b).await, 0);
}

#[tokio::test(start_paused = true)]
async fn a_forced_stable_token_retires_the_old_one_at_once() {
    let sim = Sim::new();
    let a = access_token_of(&sim.stable_token(false).await);
    let b = access_token_of(&sim.stable_token(true).await);
    assert_ne!(a, b);
    assert_eq!(sim.token_accepted(&a).await, 40001);
    assert_eq!(sim.token_accepted(&b).await, 0);
    assert_eq!(access_token_of(&sim.stable_token(false).await), b);
}

#[tokio::test(start_paused = true)]
async fn the_jsapi_ticket_is_reused_until_its_renewal_window() {
    let sim = Sim::new();
    let token = access_token_of(&sim.stable_token(false).await);
    let ticket = |answer: Value| answer["ticket"].as_str().unwrap().to_string();
    let uri = format!("/cgi-bin/ticket/getticket?access_token={token}&type=jsapi");
    let first = ticket(sim.call(Method::GET, &uri, None).await);
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(ticket(sim.call(Method::GET, &uri, None).await), first);
    tokio::time::advance(Duration::from_secs(3600 - 300)).await;
    // The token is inside its own window now too: ask with a fresh one.
    let token = access_token_of(&sim.stable_token(false).await);
    let uri = format!("/cgi-bin/ticket/getticket?access_token={token}&type=jsapi");
    let answer = sim.call(Method::GET, &uri, None).await;
    assert_eq!(answer["expires_in"], 7200);
    assert_ne!(ticket(answer), first);
}

#[tokio::test(start_paused = true)]
async fn oauth_codes_are_single_use_and_die_after_five_minutes() {
    let sim = Sim::new();
    let code = sim.sim.issue_code(0, "snsapi_base");
    assert_eq!(sim.exchange(&code).await, 0);
    assert_eq!(sim.exchange(&code).await, 40163, "a used code");

    let late = sim.sim.issue_code(0, "snsapi_base");
    tokio::time::advance(Duration::from_secs(299)).await;
    let in_time = sim.sim.issue_code(0, "snsapi_base");
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(sim.exchange(&late).await, 40029, "300 s old");
    assert_eq!(sim.exchange(&in_time).await, 0, "1 s old");
    assert_eq!(sim.exchange("never-issued").await, 40029);
}
