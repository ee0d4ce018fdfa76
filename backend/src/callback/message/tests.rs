use super::*;

fn push(body: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName>\n<FromUserName><![CDATA[oUSER1]]></FromUserName>\n<CreateTime>1348831860</CreateTime>\n{body}</xml>"
    )
}

fn event(name: &str, rest: &str) -> Event {
    let m = Message::parse(&push(&format!(
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>{rest}"
    )))
    .unwrap();
    assert_eq!(m.event(), Some(name));
    match m.kind {
        MessageKind::Event(e) => e,
        other => panic!("not an event: {other:?}"),
    }
}

#[test]
fn text_message_with_header() {
    let m = Message::parse(&push(
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId>",
    ))
    .unwrap();
    assert_eq!(m.to_user, "gh_123456789abc");
    assert_eq!(m.from_user, "oUSER1");
    assert_eq!(m.create_time, 1348831860);
    assert_eq!(m.msg_id.as_deref(), Some("1234567890123456"));
    assert_eq!(m.msg_type(), "text");
    assert_eq!(m.event(), None);
    assert_eq!(m.dedup_id(), "msg:1234567890123456");
    assert_eq!(
        m.kind,
        MessageKind::Text {
            content: "this is a test".into(),
            biz_msg_menu_id: None
        }
    );
    assert_eq!(m.raw["Content"], "this is a test");
}

#[test]
fn image_voice_video_shortvideo() {
    let m = Message::parse(&push("<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x.jpg]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Image {
            pic_url: "http://mmbiz.qpic.cn/x.jpg".into(),
            media_id: "media_id".into()
        }
    );
    let m = Message::parse(&push("<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition><MsgId>2</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Voice {
            media_id: "media_id".into(),
            format: "amr".into(),
            recognition: Some("腾讯微信团队".into())
        }
    );
    let m = Message::parse(&push("<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m]]></MediaId><Format><![CDATA[speex]]></Format><MsgId>3</MsgId>")).unwrap();
    assert!(matches!(
        m.kind,
        MessageKind::Voice {
            recognition: None,
            ..
        }
    ));
    let m = Message::parse(&push("<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><MsgId>4</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Video {
            media_id: "media_id".into(),
            thumb_media_id: "thumb_media_id".into()
        }
    );
    let m = Message::parse(&push("<MsgType><![CDATA[shortvideo]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><MsgId>5</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::ShortVideo {
            media_id: "media_id".into(),
            thumb_media_id: "thumb_media_id".into()
        }
    );
}

#[test]
fn location_and_link() {
    let m = Message::parse(&push("<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>6</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Location {
            latitude: 23.134521,
            longitude: 113.358803,
            scale: 20,
            label: "位置信息".into()
        }
    );
    let m = Message::parse(&push("<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[https://mp.weixin.qq.com/]]></Url><MsgId>7</MsgId>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Link {
            title: "公众平台官网链接".into(),
            description: "公众平台官网链接".into(),
            url: "https://mp.weixin.qq.com/".into()
        }
    );
}

#[test]
fn known_types_whose_fields_do_not_fit_are_kept_as_unknown_with_raw_fields() {
    let bad = push("<MsgType><![CDATA[location]]></MsgType><Location_X>north</Location_X><Location_Y>1</Location_Y><Scale>1</Scale><MsgId>8</MsgId>");
    let m = Message::parse(&bad).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Unknown {
            msg_type: "location".into()
        }
    );
    assert_eq!(m.raw["Location_X"], "north");
    assert_eq!(m.dedup_id(), "msg:8");

    // Events stay events (routed by name) with the unknown shape.
    for (name, rest) in [
        (
            "LOCATION",
            "<Latitude>23.1</Latitude><Longitude>113.3</Longitude>",
        ),
        (
            "MASSSENDJOBFINISH",
            "<MsgID>1</MsgID><Status>ok</Status><TotalCount>x</TotalCount>",
        ),
        ("scancode_push", "<EventKey>k</EventKey>"),
        (
            "pic_weixin",
            "<EventKey>k</EventKey><SendPicsInfo><Count></Count></SendPicsInfo>",
        ),
        ("location_select", "<EventKey>k</EventKey>"),
    ] {
        assert_eq!(
            event(name, rest),
            Event::Unknown { event: name.into() },
            "{name}"
        );
    }
    let m = Message::parse(&push(
        "<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>23.1</Latitude>",
    ))
    .unwrap();
    assert_eq!(m.raw["Latitude"], "23.1");
    // An event push without an Event is an unknown type.
    let m = Message::parse(&push("<MsgType>event</MsgType>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Unknown {
            msg_type: "event".into()
        }
    );
}

#[test]
fn subscribe_unsubscribe_and_scan() {
    assert_eq!(
        event("subscribe", ""),
        Event::Subscribe {
            scene: None,
            ticket: None
        }
    );
    let m = Message::parse(&push("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")).unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Event(Event::Subscribe {
            scene: Some("123123".into()),
            ticket: Some("TICKET".into())
        })
    );
    assert_eq!(m.event_key(), Some("123123"));
    assert_eq!(m.dedup_id(), "evt:oUSER1:1348831860:event:subscribe");
    assert_eq!(event("unsubscribe", ""), Event::Unsubscribe);
    assert_eq!(
        event(
            "SCAN",
            "<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>"
        ),
        Event::Scan {
            scene: "SCENE_VALUE".into(),
            ticket: "TICKET".into()
        }
    );
}

#[test]
fn location_click_view_miniprogram() {
    assert_eq!(
        event(
            "LOCATION",
            "<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>"
        ),
        Event::Location {
            latitude: 23.137466,
            longitude: 113.352425,
            precision: 119.38504
        }
    );
    assert_eq!(
        event(
            "CLICK",
            "<EventKey><![CDATA[V1001_TODAY_MUSIC]]></EventKey>"
        ),
        Event::Click {
            key: "V1001_TODAY_MUSIC".into()
        }
    );
    assert_eq!(
        event(
            "VIEW",
            "<EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId>"
        ),
        Event::View {
            url: "www.qq.com".into(),
            menu_id: Some("MENUID".into())
        }
    );
    assert_eq!(
        event(
            "view_miniprogram",
            "<EventKey><![CDATA[pages/index/index]]></EventKey><MenuId>MENUID</MenuId>"
        ),
        Event::ViewMiniprogram {
            page_path: "pages/index/index".into(),
            menu_id: Some("MENUID".into())
        }
    );
}

#[test]
fn scancode_events() {
    let info = "<EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>";
    let scan = ScanCodeInfo {
        scan_type: "qrcode".into(),
        scan_result: "1".into(),
    };
    assert_eq!(
        event("scancode_push", info),
        Event::ScancodePush {
            key: "6".into(),
            scan: scan.clone()
        }
    );
    assert_eq!(
        event("scancode_waitmsg", info),
        Event::ScancodeWaitmsg {
            key: "6".into(),
            scan
        }
    );
}

#[test]
fn picture_events() {
    let info = "<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[aaaa]]></PicMd5Sum></item></PicList></SendPicsInfo>";
    let pics = SendPicsInfo {
        count: 2,
        pic_md5_sums: vec!["1b5f7c23b5bf75682a53e7b6d163e185".into(), "aaaa".into()],
    };
    assert_eq!(
        event("pic_sysphoto", info),
        Event::PicSysphoto {
            key: "6".into(),
            pics: pics.clone()
        }
    );
    assert_eq!(
        event("pic_photo_or_album", info),
        Event::PicPhotoOrAlbum {
            key: "6".into(),
            pics: pics.clone()
        }
    );
    assert_eq!(
        event("pic_weixin", info),
        Event::PicWeixin {
            key: "6".into(),
            pics
        }
    );
    let m = Message::parse(&push(&format!(
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_weixin]]></Event>{info}"
    )))
    .unwrap();
    assert_eq!(m.raw["SendPicsInfo/PicList/item[1]/PicMd5Sum"], "aaaa");
    assert_eq!(m.raw["SendPicsInfo/Count"], "2");
}

#[test]
fn location_select_event() {
    assert_eq!(
        event(
            "location_select",
            "<EventKey><![CDATA[6]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>"
        ),
        Event::LocationSelect {
            key: "6".into(),
            location: SendLocationInfo {
                latitude: 23.0,
                longitude: 113.0,
                scale: 15,
                label: " 广州市海珠区客村艺苑路 106号".into(),
                poi_name: None
            }
        }
    );
}

#[test]
fn job_finish_events() {
    assert_eq!(
        event(
            "TEMPLATESENDJOBFINISH",
            "<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>"
        ),
        Event::TemplateSendJobFinish {
            msg_id: "200163836".into(),
            status: "success".into()
        }
    );
    assert_eq!(
        event(
            "MASSSENDJOBFINISH",
            "<MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount><CopyrightCheckResult><Count>0</Count><ResultList/><CheckState>1</CheckState></CopyrightCheckResult>"
        ),
        Event::MassSendJobFinish {
            msg_id: "1000001625".into(),
            status: "err(30003)".into(),
            total_count: 0,
            filter_count: 0,
            sent_count: 0,
            error_count: 0
        }
    );
}

#[test]
fn subscription_notification_events() {
    let popup = event(
        "subscribe_msg_popup_event",
        "<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List><List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>",
    );
    let Event::SubscribeMsgPopup { items } = popup else {
        panic!("{popup:?}")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1],
        SubscribeMsgItem {
            template_id: "9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI".into(),
            subscribe_status: Some("reject".into()),
            popup_scene: Some("2".into()),
            ..Default::default()
        }
    );
    let change = event(
        "subscribe_msg_change_event",
        "<SubscribeMsgChangeEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent>",
    );
    assert_eq!(
        change,
        Event::SubscribeMsgChange {
            items: vec![SubscribeMsgItem {
                template_id: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc".into(),
                subscribe_status: Some("reject".into()),
                ..Default::default()
            }]
        }
    );
    let sent = event(
        "subscribe_msg_sent_event",
        "<SubscribeMsgSentEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>",
    );
    assert_eq!(
        sent,
        Event::SubscribeMsgSent {
            items: vec![SubscribeMsgItem {
                template_id: "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc".into(),
                msg_id: Some("1700827132819554304".into()),
                error_code: Some("0".into()),
                error_status: Some("success".into()),
                ..Default::default()
            }]
        }
    );
}

/// The tolerant parser: `List` as one item or many, as an XML array
/// (`<List><item>…</item></List>`), under either wrapper tag or none.
#[test]
fn subscription_event_lists_one_item_many_items_and_either_wrapper() {
    let item = |id: &str, status: &str| {
        format!("<TemplateId><![CDATA[{id}]]></TemplateId><SubscribeStatusString><![CDATA[{status}]]></SubscribeStatusString><PopupScene>1</PopupScene>")
    };
    let ids = |e: &Event| -> Vec<(String, Option<String>)> {
        let (Event::SubscribeMsgPopup { items }
        | Event::SubscribeMsgChange { items }
        | Event::SubscribeMsgSent { items }) = e
        else {
            panic!("{e:?}")
        };
        items
            .iter()
            .map(|i| (i.template_id.clone(), i.subscribe_status.clone()))
            .collect()
    };
    let one = |id: &str, s: &str| (id.to_string(), Some(s.to_string()));
    // One item: the List is the item itself.
    let single = event(
        "subscribe_msg_popup_event",
        &format!(
            "<SubscribeMsgPopupEvent><List>{}</List></SubscribeMsgPopupEvent>",
            item("T1", "accept")
        ),
    );
    assert_eq!(ids(&single), [one("T1", "accept")]);
    // Many items: repeated Lists, in order.
    let many = event(
        "subscribe_msg_popup_event",
        &format!(
            "<SubscribeMsgPopupEvent><List>{}</List><List>{}</List><List>{}</List></SubscribeMsgPopupEvent>",
            item("T1", "accept"),
            item("T2", "reject"),
            item("T3", "accept")
        ),
    );
    assert_eq!(
        ids(&many),
        [
            one("T1", "accept"),
            one("T2", "reject"),
            one("T3", "accept")
        ]
    );
    // Many items as one List holding an array of entries.
    let array = event(
        "subscribe_msg_popup_event",
        &format!(
            "<SubscribeMsgPopupEvent><List><item>{}</item><item>{}</item></List></SubscribeMsgPopupEvent>",
            item("T1", "reject"),
            item("T2", "accept")
        ),
    );
    assert_eq!(ids(&array), [one("T1", "reject"), one("T2", "accept")]);
    // The change event under the popup event's wrapper (the documented sample).
    let change = event(
        "subscribe_msg_change_event",
        &format!(
            "<SubscribeMsgPopupEvent><List>{}</List></SubscribeMsgPopupEvent>",
            item("T9", "reject")
        ),
    );
    assert!(matches!(change, Event::SubscribeMsgChange { .. }));
    assert_eq!(ids(&change), [one("T9", "reject")]);
    // And with no wrapper at all.
    let bare = event(
        "subscribe_msg_change_event",
        &format!(
            "<List>{}</List><List>{}</List>",
            item("T1", "accept"),
            item("T2", "accept")
        ),
    );
    assert_eq!(ids(&bare), [one("T1", "accept"), one("T2", "accept")]);
    // No List: no items, still the typed event.
    assert_eq!(ids(&event("subscribe_msg_sent_event", "")), []);
}

#[test]
fn unknown_types_are_kept_with_raw_fields() {
    let m = Message::parse(&push(
        "<MsgType><![CDATA[miniprogrampage]]></MsgType><Title><![CDATA[t]]></Title><AppId><![CDATA[wxapp]]></AppId><MsgId>9</MsgId>",
    ))
    .unwrap();
    assert_eq!(
        m.kind,
        MessageKind::Unknown {
            msg_type: "miniprogrampage".into()
        }
    );
    assert_eq!(m.raw["AppId"], "wxapp");
    let e = event(
        "user_pay_from_pay_cell",
        "<CardId><![CDATA[c]]></CardId><Detail><Fee>1</Fee></Detail>",
    );
    assert_eq!(
        e,
        Event::Unknown {
            event: "user_pay_from_pay_cell".into()
        }
    );
}

#[test]
fn header_fields_are_required() {
    assert_eq!(
        Message::parse("<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime></xml>"),
        Err(MessageError::Missing("MsgType"))
    );
    assert_eq!(
        Message::parse("<xml><MsgType>text</MsgType><FromUserName>b</FromUserName><CreateTime>1</CreateTime></xml>"),
        Err(MessageError::Missing("ToUserName"))
    );
    assert_eq!(
        Message::parse("<xml><MsgType>text</MsgType><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>soon</CreateTime></xml>"),
        Err(MessageError::Invalid("CreateTime"))
    );
    assert!(matches!(
        Message::parse("<root><MsgType>text</MsgType></root>"),
        Err(MessageError::Xml(_))
    ));
    assert_eq!(
        Message::parse("<!DOCTYPE xml><xml/>"),
        Err(MessageError::Xml(XmlError::Dtd))
    );
}
