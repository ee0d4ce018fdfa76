//! Typed pushes: every normal message and every event WeChat sends to the
//! server URL, parsed from XML. Unknown types are kept with their raw
//! fields, so a new WeChat feature never makes the endpoint refuse pushes.

use std::{
    collections::{BTreeMap, HashMap},
    str::FromStr,
};

use super::xml::{self, Node, XmlError};

/// One push: the common header, the typed content, and every field as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// `ToUserName`: the account's original id (`gh_…`).
    pub to_user: String,
    /// `FromUserName`: the user's openid.
    pub from_user: String,
    /// `CreateTime`: Unix seconds.
    pub create_time: i64,
    /// `MsgId` of normal messages (the dedup key WeChat recommends).
    pub msg_id: Option<String>,
    /// What the push is.
    pub kind: MessageKind,
    /// Every field as text: top-level names (`Content`), nested ones as
    /// paths (`ScanCodeInfo/ScanType`), repeated siblings indexed
    /// (`PicList/item[1]/PicMd5Sum`). Keeps unknown types usable.
    pub raw: BTreeMap<String, String>,
}

/// The content of a push, by `MsgType`.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageKind {
    /// `text`; `biz_msg_menu_id` when the user tapped a menu message option.
    Text {
        /// `Content`: what the user typed.
        content: String,
        /// `bizmsgmenuid`: the menu-message option tapped, if any.
        biz_msg_menu_id: Option<String>,
    },
    /// `image`.
    Image {
        /// `PicUrl`: where WeChat serves the picture.
        pic_url: String,
        /// `MediaId`: the media (fetch or upload it with the material API).
        media_id: String,
    },
    /// `voice`; `recognition` when speech recognition is on.
    Voice {
        /// `MediaId`: fetch the media with the temporary-material API.
        media_id: String,
        /// `Format`: `amr`, `speex`, …
        format: String,
        /// `Recognition`: the speech-recognition text, when enabled.
        recognition: Option<String>,
    },
    /// `video`.
    Video {
        /// `MediaId`: fetch the media with the temporary-material API.
        media_id: String,
        /// `ThumbMediaId`: the thumbnail's media id.
        thumb_media_id: String,
    },
    /// `shortvideo`.
    ShortVideo {
        /// `MediaId`: fetch the media with the temporary-material API.
        media_id: String,
        /// `ThumbMediaId`: the thumbnail's media id.
        thumb_media_id: String,
    },
    /// `location`: a position the user sent.
    Location {
        /// Latitude (`Location_X` / `Latitude`).
        latitude: f64,
        /// Longitude (`Location_Y` / `Longitude`).
        longitude: f64,
        /// `Scale`: the map zoom level.
        scale: u32,
        /// `Label`: the address text.
        label: String,
    },
    /// `link`.
    Link {
        /// `Title`.
        title: String,
        /// `Description`.
        description: String,
        /// The link (`Url`, or `EventKey` for `VIEW`).
        url: String,
    },
    /// `event`.
    Event(Event),
    /// Any other `MsgType`; its fields are in [`Message::raw`].
    Unknown {
        /// `MsgType` as sent.
        msg_type: String,
    },
}

/// `Event` pushes.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `subscribe`; with `scene` (the `EventKey` without `qrscene_`) and
    /// `ticket` when the user followed by scanning a parameterized QR code.
    Subscribe {
        /// The QR code's scene (`EventKey`, without `qrscene_`).
        scene: Option<String>,
        /// `Ticket`: exchangeable for the QR code image.
        ticket: Option<String>,
    },
    /// `unsubscribe`: the user's data must be deleted (done before any handler).
    Unsubscribe,
    /// `SCAN`: a follower scanned a parameterized QR code.
    Scan {
        /// `EventKey`: the QR code's scene.
        scene: String,
        /// `Ticket`: exchangeable for the QR code image.
        ticket: String,
    },
    /// `LOCATION`: the position reported on entering the conversation.
    Location {
        /// Latitude (`Location_X` / `Latitude`).
        latitude: f64,
        /// Longitude (`Location_Y` / `Longitude`).
        longitude: f64,
        /// `Precision`: accuracy of the position, in metres.
        precision: f64,
    },
    /// `CLICK`: a menu button with a key.
    Click {
        /// `EventKey`: the menu button's key.
        key: String,
    },
    /// `VIEW`: a menu link; `url` is the `EventKey`.
    View {
        /// The link (`Url`, or `EventKey` for `VIEW`).
        url: String,
        /// `MenuId`: the personalized menu shown, if any.
        menu_id: Option<String>,
    },
    /// `scancode_push`: the scan result was shown to the user.
    ScancodePush {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `ScanCodeInfo`: what was scanned.
        scan: ScanCodeInfo,
    },
    /// `scancode_waitmsg`: the user waits for our reply to a scan.
    ScancodeWaitmsg {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `ScanCodeInfo`: what was scanned.
        scan: ScanCodeInfo,
    },
    /// `pic_sysphoto`: photos from the camera.
    PicSysphoto {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `SendPicsInfo`: the pictures sent.
        pics: SendPicsInfo,
    },
    /// `pic_photo_or_album`: photos from the camera or album.
    PicPhotoOrAlbum {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `SendPicsInfo`: the pictures sent.
        pics: SendPicsInfo,
    },
    /// `pic_weixin`: photos from the WeChat album.
    PicWeixin {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `SendPicsInfo`: the pictures sent.
        pics: SendPicsInfo,
    },
    /// `location_select`: a position picked from the menu.
    LocationSelect {
        /// `EventKey`: the menu button's key.
        key: String,
        /// `SendLocationInfo`: the position picked.
        location: SendLocationInfo,
    },
    /// `view_miniprogram`: a menu link to a mini program page.
    ViewMiniprogram {
        /// `EventKey`: the mini program page path.
        page_path: String,
        /// `MenuId`: the personalized menu shown, if any.
        menu_id: Option<String>,
    },
    /// `TEMPLATESENDJOBFINISH`: a template message was delivered (or not).
    TemplateSendJobFinish {
        /// `MsgID` of the job.
        msg_id: String,
        /// `Status`: `success`, or the failure reason.
        status: String,
    },
    /// `MASSSENDJOBFINISH`: a mass send finished.
    MassSendJobFinish {
        /// `MsgID` of the job or notification.
        msg_id: String,
        /// `Status`: `success`, or the failure reason.
        status: String,
        /// `TotalCount`: recipients targeted.
        total_count: u64,
        /// `FilterCount`: recipients after filtering.
        filter_count: u64,
        /// `SentCount`: sent successfully.
        sent_count: u64,
        /// `ErrorCount`: failed to send.
        error_count: u64,
    },
    /// `subscribe_msg_popup_event`: choices in a subscription popup.
    SubscribeMsgPopup {
        /// One entry per template (`List`).
        items: Vec<SubscribeMsgItem>,
    },
    /// `subscribe_msg_change_event`: changes in the notification settings.
    SubscribeMsgChange {
        /// One entry per template (`List`).
        items: Vec<SubscribeMsgItem>,
    },
    /// `subscribe_msg_sent_event`: results of `bizsend`.
    SubscribeMsgSent {
        /// One entry per template (`List`).
        items: Vec<SubscribeMsgItem>,
    },
    /// Any other `Event`; its fields are in [`Message::raw`].
    Unknown {
        /// `Event` as sent.
        event: String,
    },
}

/// `ScanCodeInfo` of scan menu events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCodeInfo {
    /// `qrcode`, `barcode`, …
    pub scan_type: String,
    /// `ScanResult`: the decoded content.
    pub scan_result: String,
}

/// `SendPicsInfo` of picture menu events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendPicsInfo {
    /// `Count`: how many pictures.
    pub count: u32,
    /// `PicMd5Sum` of each picture.
    pub pic_md5_sums: Vec<String>,
}

/// `SendLocationInfo` of `location_select`.
#[derive(Debug, Clone, PartialEq)]
pub struct SendLocationInfo {
    /// Latitude (`Location_X` / `Latitude`).
    pub latitude: f64,
    /// Longitude (`Location_Y` / `Longitude`).
    pub longitude: f64,
    /// `Scale`: the map zoom level.
    pub scale: u32,
    /// `Label`: the address text.
    pub label: String,
    /// `Poiname`, when the user picked a point of interest.
    pub poi_name: Option<String>,
}

/// One `List` entry of the subscription-notification events; which fields
/// are set depends on the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeMsgItem {
    /// `TemplateId`: the notification template.
    pub template_id: String,
    /// `accept` / `reject` (popup and change events).
    pub subscribe_status: Option<String>,
    /// `PopupScene` (popup event): 0 article, 1 page, 2 …
    pub popup_scene: Option<String>,
    /// `MsgID` (sent event).
    pub msg_id: Option<String>,
    /// `ErrorCode` (sent event): 0 on success.
    pub error_code: Option<String>,
    /// `ErrorStatus` (sent event): `success`, `fail:…`.
    pub error_status: Option<String>,
}

/// Why a push is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The body is not acceptable XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A field every push (or this type) carries is missing.
    #[error("the push has no {0}")]
    Missing(&'static str),
    /// A field is not of its type (a number that is not one).
    #[error("the push field {0} is not valid")]
    Invalid(&'static str),
}

impl Message {
    /// Parses a push body (already decrypted in safe mode).
    pub fn parse(body: &str) -> Result<Self, MessageError> {
        Self::from_node(&xml::parse(body)?)
    }

    /// Builds the typed message from a parsed `<xml>` root.
    pub fn from_node(root: &Node) -> Result<Self, MessageError> {
        if root.name != "xml" {
            return Err(MessageError::Xml(XmlError::Malformed));
        }
        let msg_type = required(root, "MsgType")?;
        // A known type whose own fields do not fit (a number that is not
        // one, a missing block) is still a push: kept as an unknown one with
        // its raw fields, never refused.
        let kind = typed_kind(root, &msg_type).unwrap_or_else(|e| {
            tracing::warn!(msg_type = %msg_type, error = %e, "a push's fields do not fit its type; handled as an unknown type with its raw fields");
            match optional(root, "Event") {
                Some(event) if msg_type == "event" => MessageKind::Event(Event::Unknown { event }),
                _ => MessageKind::Unknown {
                    msg_type: msg_type.clone(),
                },
            }
        });
        let mut raw = BTreeMap::new();
        flatten(root, "", &mut raw);
        Ok(Self {
            to_user: required(root, "ToUserName")?,
            from_user: required(root, "FromUserName")?,
            create_time: number(root, "CreateTime")?,
            msg_id: optional(root, "MsgId"),
            kind,
            raw,
        })
    }

    /// `MsgType` as sent (`text`, `event`, …).
    pub fn msg_type(&self) -> &str {
        self.raw.get("MsgType").map(String::as_str).unwrap_or("")
    }

    /// `Event` as sent (`subscribe`, `CLICK`, …), for event pushes.
    pub fn event(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Event(_) => self.raw.get("Event").map(String::as_str),
            _ => None,
        }
    }

    /// The key handlers are routed on with the event: `EventKey` as sent,
    /// except that `subscribe` drops the `qrscene_` prefix so one key serves
    /// both `subscribe` and `SCAN` of the same QR code.
    pub fn event_key(&self) -> Option<&str> {
        let key = self.raw.get("EventKey")?.as_str();
        match &self.kind {
            MessageKind::Event(Event::Subscribe { .. }) => {
                Some(key.strip_prefix("qrscene_").unwrap_or(key))
            }
            MessageKind::Event(_) => Some(key),
            _ => None,
        }
    }

    /// Identifies retries of this push: `MsgId` for messages, else
    /// `FromUserName + CreateTime + Event` (WeChat's advice).
    pub fn dedup_id(&self) -> String {
        match &self.msg_id {
            Some(id) if !id.is_empty() => format!("msg:{id}"),
            _ => format!(
                "evt:{}:{}:{}:{}",
                self.from_user,
                self.create_time,
                self.msg_type(),
                self.event().unwrap_or("")
            ),
        }
    }
}

/// The typed content of a push of `MsgType` `msg_type`.
fn typed_kind(root: &Node, msg_type: &str) -> Result<MessageKind, MessageError> {
    Ok(match msg_type {
        "text" => MessageKind::Text {
            content: text(root, "Content"),
            biz_msg_menu_id: optional(root, "bizmsgmenuid"),
        },
        "image" => MessageKind::Image {
            pic_url: text(root, "PicUrl"),
            media_id: text(root, "MediaId"),
        },
        "voice" => MessageKind::Voice {
            media_id: text(root, "MediaId"),
            format: text(root, "Format"),
            recognition: optional(root, "Recognition"),
        },
        "video" => MessageKind::Video {
            media_id: text(root, "MediaId"),
            thumb_media_id: text(root, "ThumbMediaId"),
        },
        "shortvideo" => MessageKind::ShortVideo {
            media_id: text(root, "MediaId"),
            thumb_media_id: text(root, "ThumbMediaId"),
        },
        "location" => MessageKind::Location {
            latitude: number(root, "Location_X")?,
            longitude: number(root, "Location_Y")?,
            scale: number(root, "Scale")?,
            label: text(root, "Label"),
        },
        "link" => MessageKind::Link {
            title: text(root, "Title"),
            description: text(root, "Description"),
            url: text(root, "Url"),
        },
        "event" => MessageKind::Event(parse_event(root)?),
        other => MessageKind::Unknown {
            msg_type: other.to_string(),
        },
    })
}

fn parse_event(root: &Node) -> Result<Event, MessageError> {
    let name = required(root, "Event")?;
    let key = || text(root, "EventKey");
    Ok(match name.as_str() {
        "subscribe" => Event::Subscribe {
            scene: optional(root, "EventKey")
                .map(|k| k.strip_prefix("qrscene_").map(String::from).unwrap_or(k)),
            ticket: optional(root, "Ticket"),
        },
        "unsubscribe" => Event::Unsubscribe,
        "SCAN" => Event::Scan {
            scene: key(),
            ticket: text(root, "Ticket"),
        },
        "LOCATION" => Event::Location {
            latitude: number(root, "Latitude")?,
            longitude: number(root, "Longitude")?,
            precision: number(root, "Precision")?,
        },
        "CLICK" => Event::Click { key: key() },
        "VIEW" => Event::View {
            url: key(),
            menu_id: optional(root, "MenuId"),
        },
        "scancode_push" => Event::ScancodePush {
            key: key(),
            scan: scan_code_info(root)?,
        },
        "scancode_waitmsg" => Event::ScancodeWaitmsg {
            key: key(),
            scan: scan_code_info(root)?,
        },
        "pic_sysphoto" => Event::PicSysphoto {
            key: key(),
            pics: send_pics_info(root)?,
        },
        "pic_photo_or_album" => Event::PicPhotoOrAlbum {
            key: key(),
            pics: send_pics_info(root)?,
        },
        "pic_weixin" => Event::PicWeixin {
            key: key(),
            pics: send_pics_info(root)?,
        },
        "location_select" => {
            let info = root
                .child("SendLocationInfo")
                .ok_or(MessageError::Missing("SendLocationInfo"))?;
            Event::LocationSelect {
                key: key(),
                location: SendLocationInfo {
                    latitude: number(info, "Location_X")?,
                    longitude: number(info, "Location_Y")?,
                    scale: number(info, "Scale")?,
                    label: text(info, "Label"),
                    poi_name: optional(info, "Poiname"),
                },
            }
        }
        "view_miniprogram" => Event::ViewMiniprogram {
            page_path: key(),
            menu_id: optional(root, "MenuId"),
        },
        "TEMPLATESENDJOBFINISH" => Event::TemplateSendJobFinish {
            msg_id: text(root, "MsgID"),
            status: text(root, "Status"),
        },
        "MASSSENDJOBFINISH" => Event::MassSendJobFinish {
            msg_id: text(root, "MsgID"),
            status: text(root, "Status"),
            total_count: number(root, "TotalCount")?,
            filter_count: number(root, "FilterCount")?,
            sent_count: number(root, "SentCount")?,
            error_count: number(root, "ErrorCount")?,
        },
        "subscribe_msg_popup_event" => Event::SubscribeMsgPopup {
            items: subscribe_items(root, "SubscribeMsgPopupEvent"),
        },
        "subscribe_msg_change_event" => Event::SubscribeMsgChange {
            items: subscribe_items(root, "SubscribeMsgChangeEvent"),
        },
        "subscribe_msg_sent_event" => Event::SubscribeMsgSent {
            items: subscribe_items(root, "SubscribeMsgSentEvent"),
        },
        other => Event::Unknown {
            event: other.to_string(),
        },
    })
}

fn scan_code_info(root: &Node) -> Result<ScanCodeInfo, MessageError> {
    let info = root
        .child("ScanCodeInfo")
        .ok_or(MessageError::Missing("ScanCodeInfo"))?;
    Ok(ScanCodeInfo {
        scan_type: text(info, "ScanType"),
        scan_result: text(info, "ScanResult"),
    })
}

fn send_pics_info(root: &Node) -> Result<SendPicsInfo, MessageError> {
    let info = root
        .child("SendPicsInfo")
        .ok_or(MessageError::Missing("SendPicsInfo"))?;
    let pic_md5_sums = info
        .child("PicList")
        .map(|list| {
            list.children_named("item")
                .map(|item| text(item, "PicMd5Sum"))
                .collect()
        })
        .unwrap_or_default();
    Ok(SendPicsInfo {
        count: number(info, "Count")?,
        pic_md5_sums,
    })
}

/// The wrapper tags the three subscription events use. Real pushes vary:
/// the documented `subscribe_msg_change_event` sample carries the popup
/// event's wrapper, so any of them is read, the event's own first.
const SUBSCRIBE_WRAPPERS: [&str; 3] = [
    "SubscribeMsgPopupEvent",
    "SubscribeMsgChangeEvent",
    "SubscribeMsgSentEvent",
];

/// The `List` entries of a subscription event, however they come: under
/// the event's wrapper or another one's (or none), one `<List>` per
/// template or several, and a `<List>` that holds its entries as child
/// elements (`<List><item>…</item></List>`, an array spelled as XML).
fn subscribe_items(root: &Node, container: &str) -> Vec<SubscribeMsgItem> {
    let holder = std::iter::once(container)
        .chain(SUBSCRIBE_WRAPPERS)
        .find_map(|name| root.child(name))
        .unwrap_or(root);
    holder
        .children_named("List")
        .flat_map(|list| {
            if list.child("TemplateId").is_some() {
                vec![list]
            } else {
                list.children
                    .iter()
                    .filter(|item| item.child("TemplateId").is_some())
                    .collect()
            }
        })
        .map(|item| SubscribeMsgItem {
            template_id: text(item, "TemplateId"),
            subscribe_status: optional(item, "SubscribeStatusString"),
            popup_scene: optional(item, "PopupScene"),
            msg_id: optional(item, "MsgID"),
            error_code: optional(item, "ErrorCode"),
            error_status: optional(item, "ErrorStatus"),
        })
        .collect()
}

/// A field's text, or "" when absent (WeChat omits some on old clients).
fn text(node: &Node, name: &str) -> String {
    node.text_of(name).unwrap_or_default().to_string()
}

/// A field's text when present and not blank.
fn optional(node: &Node, name: &str) -> Option<String> {
    node.text_of(name)
        .filter(|t| !t.trim().is_empty())
        .map(String::from)
}

fn required(node: &Node, name: &'static str) -> Result<String, MessageError> {
    optional(node, name).ok_or(MessageError::Missing(name))
}

fn number<T: FromStr>(node: &Node, name: &'static str) -> Result<T, MessageError> {
    required(node, name)?
        .trim()
        .parse()
        .map_err(|_| MessageError::Invalid(name))
}

fn flatten(node: &Node, prefix: &str, out: &mut BTreeMap<String, String>) {
    // Only repeated names need counting (rare): find them first.
    let repeated: HashMap<&str, usize> = if has_repeated_names(node) {
        let mut totals: HashMap<&str, usize> = HashMap::new();
        for child in &node.children {
            *totals.entry(child.name.as_str()).or_default() += 1;
        }
        totals.retain(|_, n| *n > 1);
        totals
    } else {
        HashMap::new()
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for child in &node.children {
        let mut path = String::with_capacity(prefix.len() + child.name.len() + 4);
        path.push_str(prefix);
        path.push_str(&child.name);
        if repeated.contains_key(child.name.as_str()) {
            let index = seen.entry(child.name.as_str()).or_default();
            path.push_str(&format!("[{index}]"));
            *index += 1;
        }
        if child.children.is_empty() {
            out.insert(path, child.text.clone());
        } else {
            path.push('/');
            flatten(child, &path, out);
        }
    }
}

/// True when two children share a name; a sort-free check that stays
/// cheap for the handful of fields a push has (and is bounded by the
/// parser's element limit otherwise).
fn has_repeated_names(node: &Node) -> bool {
    if node.children.len() > 64 {
        return true;
    }
    node.children
        .iter()
        .enumerate()
        .any(|(i, a)| node.children[..i].iter().any(|b| b.name == a.name))
}

#[cfg(test)]
mod tests;
