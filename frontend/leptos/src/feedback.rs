//! A page-wide toast and dialog: any component can say something short
//! ([`Feedback::toast`]) or something to acknowledge ([`Feedback::alert`])
//! without owning the markup; [`FeedbackHost`] renders them.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use wxh5_leptos::feedback::{self, FeedbackHost};
//! # #[component] fn App() -> impl IntoView {
//! let feedback = feedback::provide_feedback();
//! view! {
//!     <button on:click=move |_| feedback.toast("已保存")>"保存"</button>
//!     <FeedbackHost />
//! }
//! # }
//! ```

use leptos::prelude::*;

use crate::weui::{Dialog, Toast};

/// The toast and dialog state, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Feedback {
    /// The toast's text while it shows.
    pub toast: RwSignal<Option<String>>,
    /// The dialog's title and text until dismissed.
    pub dialog: RwSignal<Option<(String, String)>>,
}

impl Feedback {
    /// Shows a toast for 1.5 s.
    pub fn toast(&self, text: impl Into<String>) {
        let toast = self.toast;
        toast.set(Some(text.into()));
        set_timeout(
            move || toast.set(None),
            std::time::Duration::from_millis(1500),
        );
    }

    /// Shows a dialog with one "知道了" button.
    pub fn alert(&self, title: impl Into<String>, text: impl Into<String>) {
        self.dialog.set(Some((title.into(), text.into())));
    }
}

/// Creates the feedback state and puts it in context.
pub fn provide_feedback() -> Feedback {
    let feedback = Feedback {
        toast: RwSignal::new(None),
        dialog: RwSignal::new(None),
    };
    provide_context(feedback);
    feedback
}

/// The feedback state; panics outside [`provide_feedback`].
pub fn use_feedback() -> Feedback {
    expect_context()
}

/// Renders the toast and the dialog of [`Feedback`].
#[component]
pub fn FeedbackHost() -> impl IntoView {
    let feedback = use_feedback();
    view! {
        {move || feedback.toast.get().map(|text| view! { <Toast text=text /> })}
        {move || feedback.dialog.get().map(|(title, body)| view! {
            <Dialog title=title body=body on_confirm=move || feedback.dialog.set(None) />
        })}
    }
}
