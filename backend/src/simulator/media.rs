//! WeChat's temporary media (临时素材), as small as the simulated browser
//! needs: what `wx.uploadImage` / `wx.uploadVoice` put on WeChat's servers
//! is kept three days under a media id (the page's `serverId`), and
//! `GET /cgi-bin/media/get?access_token=…&media_id=…` (routed by `spec_api`) hands the bytes back
//! to the account's server, with WeChat's headers and errcodes.
//!
//! Bounded: at most [`MAX_ITEMS`] items and [`MAX_BYTES`] in all, the
//! oldest dropped first (WeChat would keep them; a laptop's simulator need
//! not).

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use axum::{
    body::Bytes,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use tokio::time::Instant;

use super::{lock, random_string, Simulator};

/// WeChat keeps temporary media three days.
pub const MEDIA_TTL: Duration = Duration::from_secs(3 * 24 * 3600);
/// At most this many items are kept.
pub const MAX_ITEMS: usize = 256;
/// At most this many bytes are kept, all items together.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// The kinds the page can upload, with WeChat's size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `wx.uploadImage`: up to 10 MB.
    Image,
    /// `wx.uploadVoice`: up to 2 MB.
    Voice,
}

impl MediaKind {
    /// `image` or `voice`, as `type=` spells it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "image" => Some(Self::Image),
            "voice" => Some(Self::Voice),
            _ => None,
        }
    }

    /// WeChat's largest upload of this kind.
    pub fn max_bytes(self) -> usize {
        match self {
            Self::Image => 10 * 1024 * 1024,
            Self::Voice => 2 * 1024 * 1024,
        }
    }

    /// The file extension `media/get` names its attachment with.
    fn extension(self, content_type: &str) -> &'static str {
        match (self, content_type) {
            (Self::Image, "image/png") => "png",
            (Self::Image, "image/gif") => "gif",
            (Self::Image, "image/webp") => "webp",
            (Self::Image, _) => "jpg",
            (Self::Voice, "audio/wav" | "audio/x-wav" | "audio/wave") => "wav",
            (Self::Voice, t) if t.starts_with("audio/webm") => "webm",
            (Self::Voice, t) if t.starts_with("audio/ogg") => "ogg",
            (Self::Voice, _) => "amr",
        }
    }
}

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct Media {
    /// What was uploaded.
    pub kind: MediaKind,
    /// Its type as the uploader declared it.
    pub content_type: String,
    /// The bytes, unchanged.
    pub bytes: Bytes,
    expires_at: Instant,
}

/// The store behind the simulator's temporary media.
#[derive(Debug, Default)]
pub(super) struct MediaStore {
    items: HashMap<String, Media>,
    /// Media ids, oldest first.
    order: VecDeque<String>,
    bytes: usize,
}

impl MediaStore {
    fn put(&mut self, kind: MediaKind, content_type: &str, bytes: Bytes) -> String {
        let now = Instant::now();
        while let Some(oldest) = self.order.front().cloned() {
            let expired = self.items.get(&oldest).is_none_or(|m| m.expires_at <= now);
            let full = self.items.len() >= MAX_ITEMS || self.bytes + bytes.len() > MAX_BYTES;
            if !expired && !full {
                break;
            }
            self.order.pop_front();
            if let Some(gone) = self.items.remove(&oldest) {
                self.bytes -= gone.bytes.len();
            }
        }
        let media_id = format!("SIMMEDIA_{}", random_string(48));
        self.bytes += bytes.len();
        self.order.push_back(media_id.clone());
        self.items.insert(
            media_id.clone(),
            Media {
                kind,
                content_type: content_type.to_string(),
                bytes,
                expires_at: now + MEDIA_TTL,
            },
        );
        media_id
    }

    fn get(&self, media_id: &str) -> Option<Media> {
        self.items
            .get(media_id)
            .filter(|m| Instant::now() < m.expires_at)
            .cloned()
    }
}

impl Simulator {
    /// Keeps `bytes` as temporary media (what the simulated client does on
    /// `uploadImage`/`uploadVoice`) and returns the media id. The caller
    /// checks the size against [`MediaKind::max_bytes`].
    pub fn put_temporary_media(&self, kind: MediaKind, content_type: &str, bytes: Bytes) -> String {
        lock(&self.state.media).put(kind, content_type, bytes)
    }

    /// The temporary media `media_id`, while WeChat would still have it.
    pub fn temporary_media(&self, media_id: &str) -> Option<Media> {
        lock(&self.state.media).get(media_id)
    }
}

impl Simulator {
    /// `GET /cgi-bin/media/get` once the spec table's checks passed (token,
    /// `media_id` present): the bytes with `Content-Type` and
    /// `Content-disposition: attachment; filename="<media_id>.<ext>"`, or
    /// 40007 for an unknown or expired media id.
    pub(super) fn temporary_media_answer(&self, media_id: &str) -> Result<Response, i64> {
        let media = self.temporary_media(media_id).ok_or(40007)?;
        let disposition = format!(
            "attachment; filename=\"{}.{}\"",
            media_id,
            media.kind.extension(&media.content_type)
        );
        let content_type = HeaderValue::from_str(&media.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        let mut response = media.bytes.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, content_type);
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_under_an_id_and_drops_the_oldest_when_full() {
        let mut store = MediaStore::default();
        let first = store.put(MediaKind::Image, "image/png", Bytes::from_static(b"png"));
        assert_eq!(store.get(&first).unwrap().bytes, Bytes::from_static(b"png"));
        assert!(store.get("SIMMEDIA_nope").is_none());
        for _ in 0..MAX_ITEMS {
            store.put(MediaKind::Voice, "audio/wav", Bytes::from_static(b"x"));
        }
        assert_eq!(store.items.len(), MAX_ITEMS);
        assert!(store.get(&first).is_none(), "the oldest went first");
        let big = Bytes::from(vec![0u8; MAX_BYTES]);
        let last = store.put(MediaKind::Image, "image/jpeg", big);
        assert_eq!(store.items.len(), 1);
        assert_eq!(store.bytes, MAX_BYTES);
        assert!(store.get(&last).is_some());
    }

    #[test]
    fn attachment_names_follow_the_type() {
        assert_eq!(MediaKind::Image.extension("image/png"), "png");
        assert_eq!(
            MediaKind::Image.extension("application/octet-stream"),
            "jpg"
        );
        assert_eq!(MediaKind::Voice.extension("audio/webm;codecs=opus"), "webm");
        assert_eq!(MediaKind::parse("voice"), Some(MediaKind::Voice));
        assert_eq!(MediaKind::parse("video"), None);
    }
}
