//! WeUI's widgets as Leptos components. They render WeUI 2's class names;
//! the page links WeUI's CSS for the widgets it uses (the repository's
//! `scripts/weui-subset.sh` concatenates them from npm's `weui`).
//!
//! ```no_run
//! use leptos::prelude::*;
//! use wxh5_leptos::weui::{Button, ButtonKind, Cell, Cells, LinkCell};
//! # fn v() -> impl IntoView {
//! view! {
//!     <Cells title="账户">
//!         <Cell label="昵称" value="张三" />
//!         <LinkCell label="诊断" href="diag.html" />
//!     </Cells>
//!     <Button kind=ButtonKind::Primary on_click=|| ()>"确定"</Button>
//! }
//! # }
//! ```

mod button;
mod cells;
mod dialog;
mod msg;
mod picker;
mod tabbar;

pub use button::{Button, ButtonKind};
pub use cells::{Cell, Cells, LinkCell};
pub use dialog::{Dialog, Loading, Toast};
pub use msg::{Msg, MsgIcon};
pub use picker::{ActionSheet, Uploader};
pub use tabbar::{Tab, TabBar};
