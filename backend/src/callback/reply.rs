//! Passive replies (被动回复): what a handler may answer a push with,
//! serialized as the XML WeChat expects, and sealed in safe mode.

use std::fmt::Write;

use super::{crypto, crypto::MsgCrypt, message::Message};

/// A reply to one push. WeChat shows it in the user's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A text message.
    Text {
        /// `Content`: the text shown.
        content: String,
    },
    /// An image already uploaded as media.
    Image {
        /// `MediaId`: the media (fetch or upload it with the material API).
        media_id: String,
    },
    /// A voice message already uploaded as media.
    Voice {
        /// `MediaId`: the media (fetch or upload it with the material API).
        media_id: String,
    },
    /// A video already uploaded as media.
    Video {
        /// `MediaId`: fetch the media with the temporary-material API.
        media_id: String,
        /// `Title`.
        title: Option<String>,
        /// `Description`.
        description: Option<String>,
    },
    /// Music with a thumbnail.
    Music {
        /// `Title`.
        title: Option<String>,
        /// `Description`.
        description: Option<String>,
        /// `MusicUrl`: the music link.
        music_url: Option<String>,
        /// `HQMusicUrl`: the high-quality link (used on Wi-Fi).
        hq_music_url: Option<String>,
        /// `ThumbMediaId`: the thumbnail's media id.
        thumb_media_id: String,
    },
    /// Articles (图文); WeChat currently shows one in passive replies.
    News {
        /// `Articles`: the articles shown.
        articles: Vec<Article>,
    },
    /// Hands the message to the customer-service system (客服), to a given
    /// `kf_account` (`test1@test`) if set.
    TransferCustomerService {
        /// `TransInfo/KfAccount`: a given customer-service account.
        kf_account: Option<String>,
    },
}

/// One article of a [`Reply::News`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    /// `Title`.
    pub title: String,
    /// `Description`.
    pub description: String,
    /// `PicUrl`: where WeChat serves the picture.
    pub pic_url: String,
    /// The link (`Url`, or `EventKey` for `VIEW`).
    pub url: String,
}

impl Reply {
    /// A text reply.
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text {
            content: content.into(),
        }
    }

    /// The `MsgType` WeChat expects for this reply.
    pub fn msg_type(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image { .. } => "image",
            Self::Voice { .. } => "voice",
            Self::Video { .. } => "video",
            Self::Music { .. } => "music",
            Self::News { .. } => "news",
            Self::TransferCustomerService { .. } => "transfer_customer_service",
        }
    }

    /// The plain reply XML to `to` (sender and recipient swapped).
    pub fn to_xml(&self, to: &Message, create_time: i64) -> String {
        self.to_xml_between(&to.from_user, &to.to_user, create_time)
    }

    /// The plain reply XML from the account `from_user` to the follower
    /// `to_user`: what [`Reply::to_xml`] builds, for callers that no longer
    /// hold the incoming message.
    pub fn to_xml_between(&self, to_user: &str, from_user: &str, create_time: i64) -> String {
        let mut x = String::with_capacity(512);
        x.push_str("<xml>");
        field(&mut x, "ToUserName", to_user);
        field(&mut x, "FromUserName", from_user);
        let _ = write!(x, "<CreateTime>{create_time}</CreateTime>");
        field(&mut x, "MsgType", self.msg_type());
        match self {
            Self::Text { content } => field(&mut x, "Content", content),
            Self::Image { media_id } => {
                x.push_str("<Image>");
                field(&mut x, "MediaId", media_id);
                x.push_str("</Image>");
            }
            Self::Voice { media_id } => {
                x.push_str("<Voice>");
                field(&mut x, "MediaId", media_id);
                x.push_str("</Voice>");
            }
            Self::Video {
                media_id,
                title,
                description,
            } => {
                x.push_str("<Video>");
                field(&mut x, "MediaId", media_id);
                optional(&mut x, "Title", title);
                optional(&mut x, "Description", description);
                x.push_str("</Video>");
            }
            Self::Music {
                title,
                description,
                music_url,
                hq_music_url,
                thumb_media_id,
            } => {
                x.push_str("<Music>");
                optional(&mut x, "Title", title);
                optional(&mut x, "Description", description);
                optional(&mut x, "MusicUrl", music_url);
                optional(&mut x, "HQMusicUrl", hq_music_url);
                field(&mut x, "ThumbMediaId", thumb_media_id);
                x.push_str("</Music>");
            }
            Self::News { articles } => {
                let _ = write!(
                    x,
                    "<ArticleCount>{}</ArticleCount><Articles>",
                    articles.len()
                );
                for a in articles {
                    x.push_str("<item>");
                    field(&mut x, "Title", &a.title);
                    field(&mut x, "Description", &a.description);
                    field(&mut x, "PicUrl", &a.pic_url);
                    field(&mut x, "Url", &a.url);
                    x.push_str("</item>");
                }
                x.push_str("</Articles>");
            }
            Self::TransferCustomerService { kf_account } => {
                if let Some(account) = kf_account {
                    x.push_str("<TransInfo>");
                    field(&mut x, "KfAccount", account);
                    x.push_str("</TransInfo>");
                }
            }
        }
        x.push_str("</xml>");
        x
    }
}

/// Seals a plain reply for safe mode: `<xml><Encrypt/><MsgSignature/>
/// <TimeStamp/><Nonce/></xml>` with a fresh random nonce.
pub fn seal(plain: &str, crypt: &MsgCrypt, token: &str, timestamp: i64) -> String {
    let nonce = rand::random_range(100_000_000u64..10_000_000_000).to_string();
    seal_with(plain, crypt, token, &timestamp.to_string(), &nonce)
}

/// [`seal`] with a given nonce.
pub fn seal_with(
    plain: &str,
    crypt: &MsgCrypt,
    token: &str,
    timestamp: &str,
    nonce: &str,
) -> String {
    let encrypt = crypt.encrypt(plain);
    let signature = crypto::msg_signature(token, timestamp, nonce, &encrypt);
    let mut x = String::with_capacity(encrypt.len() + 200);
    x.push_str("<xml>");
    field(&mut x, "Encrypt", &encrypt);
    field(&mut x, "MsgSignature", &signature);
    let _ = write!(x, "<TimeStamp>{timestamp}</TimeStamp>");
    field(&mut x, "Nonce", nonce);
    x.push_str("</xml>");
    x
}

fn optional(x: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        field(x, name, value);
    }
}

/// `<name><![CDATA[value]]></name>`: a `]]>` inside is split across two
/// CDATA sections, and characters XML cannot carry are dropped.
fn field(x: &mut String, name: &str, value: &str) {
    x.push('<');
    x.push_str(name);
    x.push_str("><![CDATA[");
    if value.chars().all(xml_char) && !value.contains("]]>") {
        // The usual case: nothing to drop or split.
        x.push_str(value);
    } else {
        let clean: String = value.chars().filter(|c| xml_char(*c)).collect();
        x.push_str(&clean.replace("]]>", "]]]]><![CDATA[>"));
    }
    x.push_str("]]></");
    x.push_str(name);
    x.push('>');
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callback::xml;

    fn incoming() -> Message {
        Message::parse(
            "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>42</MsgId></xml>",
        )
        .unwrap()
    }

    fn header(reply: &Reply) -> String {
        format!(
            "<xml><ToUserName><![CDATA[oUSER]]></ToUserName><FromUserName><![CDATA[gh_account]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[{}]]></MsgType>",
            reply.msg_type()
        )
    }

    /// Every reply type with the XML WeChat documents for it.
    pub(crate) fn samples() -> Vec<(Reply, &'static str)> {
        vec![
            (Reply::text("你好 <b>&"), "<Content><![CDATA[你好 <b>&]]></Content>"),
            (
                Reply::Image { media_id: "img1".into() },
                "<Image><MediaId><![CDATA[img1]]></MediaId></Image>",
            ),
            (
                Reply::Voice { media_id: "v1".into() },
                "<Voice><MediaId><![CDATA[v1]]></MediaId></Voice>",
            ),
            (
                Reply::Video {
                    media_id: "vid".into(),
                    title: Some("T".into()),
                    description: Some("D".into()),
                },
                "<Video><MediaId><![CDATA[vid]]></MediaId><Title><![CDATA[T]]></Title><Description><![CDATA[D]]></Description></Video>",
            ),
            (
                Reply::Music {
                    title: Some("Song".into()),
                    description: None,
                    music_url: Some("http://m/1.mp3".into()),
                    hq_music_url: Some("http://m/1hq.mp3".into()),
                    thumb_media_id: "th".into(),
                },
                "<Music><Title><![CDATA[Song]]></Title><MusicUrl><![CDATA[http://m/1.mp3]]></MusicUrl><HQMusicUrl><![CDATA[http://m/1hq.mp3]]></HQMusicUrl><ThumbMediaId><![CDATA[th]]></ThumbMediaId></Music>",
            ),
            (
                Reply::News {
                    articles: vec![Article {
                        title: "A".into(),
                        description: "B".into(),
                        pic_url: "http://p/1.jpg".into(),
                        url: "https://h5.example/".into(),
                    }],
                },
                "<ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[A]]></Title><Description><![CDATA[B]]></Description><PicUrl><![CDATA[http://p/1.jpg]]></PicUrl><Url><![CDATA[https://h5.example/]]></Url></item></Articles>",
            ),
            (Reply::TransferCustomerService { kf_account: None }, ""),
            (
                Reply::TransferCustomerService {
                    kf_account: Some("test1@test".into()),
                },
                "<TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo>",
            ),
        ]
    }

    #[test]
    fn each_reply_type_serializes_as_wechat_expects() {
        for (reply, body) in samples() {
            let xml_text = reply.to_xml(&incoming(), 1_700_000_000);
            assert_eq!(xml_text, format!("{}{body}</xml>", header(&reply)));
            // And it is well-formed.
            let root = xml::parse(&xml_text).unwrap();
            assert_eq!(root.text_of("MsgType"), Some(reply.msg_type()));
            assert_eq!(root.text_of("ToUserName"), Some("oUSER"));
        }
    }

    #[test]
    fn cdata_terminator_and_control_characters_cannot_break_out() {
        let reply = Reply::text("a]]><Evil/>]]>b\u{0}c");
        let xml_text = reply.to_xml(&incoming(), 1);
        let root = xml::parse(&xml_text).unwrap();
        assert_eq!(root.text_of("Content"), Some("a]]><Evil/>]]>bc"));
        assert!(root.child("Evil").is_none());
    }

    #[test]
    fn sealed_replies_open_with_our_decrypter() {
        let crypt = MsgCrypt::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxAPP").unwrap();
        for (reply, _) in samples() {
            let plain = reply.to_xml(&incoming(), 1_700_000_000);
            let sealed = seal(&plain, &crypt, "tok", 1_700_000_000);
            let root = xml::parse(&sealed).unwrap();
            let encrypt = root.text_of("Encrypt").unwrap();
            let nonce = root.text_of("Nonce").unwrap();
            assert!(!nonce.is_empty());
            assert_eq!(root.text_of("TimeStamp"), Some("1700000000"));
            assert!(crypto::verify_msg_signature(
                "tok",
                "1700000000",
                nonce,
                encrypt,
                root.text_of("MsgSignature").unwrap()
            ));
            assert_eq!(crypt.decrypt(encrypt).unwrap().message, plain);
        }
        let a = seal("<xml/>", &crypt, "tok", 1);
        let b = seal("<xml/>", &crypt, "tok", 1);
        let nonce = |s: &str| xml::parse(s).unwrap().text_of("Nonce").unwrap().to_string();
        assert_ne!(nonce(&a), nonce(&b), "a fresh nonce each time");
    }
}
