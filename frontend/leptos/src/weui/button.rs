use leptos::prelude::*;

/// The look of a [`Button`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ButtonKind {
    /// Green, the main action (`weui-btn_primary`).
    #[default]
    Primary,
    /// Grey (`weui-btn_default`).
    Default,
    /// Red, destructive (`weui-btn_warn`).
    Warn,
}

impl ButtonKind {
    fn class(self) -> &'static str {
        match self {
            Self::Primary => "weui-btn weui-btn_primary",
            Self::Default => "weui-btn weui-btn_default",
            Self::Warn => "weui-btn weui-btn_warn",
        }
    }
}

/// WeUI's button (`<a role="button" class="weui-btn …">`), with a spinner
/// while `loading` and greyed out while `disabled` (taps are ignored then).
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::weui::{Button, ButtonKind};
/// # fn v() -> impl IntoView {
/// let busy = RwSignal::new(false);
/// view! { <Button kind=ButtonKind::Default mini=true loading=busy on_click=move || busy.set(true)>"试一试"</Button> }
/// # }
/// ```
#[component]
pub fn Button(
    /// Primary, default or warn.
    #[prop(optional)]
    kind: ButtonKind,
    /// The small inline size (`weui-btn_mini`).
    #[prop(optional)]
    mini: bool,
    /// Shows a spinner and ignores taps.
    #[prop(optional, into)]
    loading: Signal<bool>,
    /// Greys out and ignores taps.
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// Extra classes (e.g. a test hook).
    #[prop(optional)]
    class: &'static str,
    /// What a tap does.
    #[prop(into)]
    on_click: Callback<()>,
    /// The label.
    children: Children,
) -> impl IntoView {
    view! {
        <a
            role="button"
            class=wxh5_core::js::concat(&[kind.class(), " ", class])
            class:weui-btn_mini=mini
            class:weui-btn_loading=move || loading.get()
            class:weui-btn_disabled=move || disabled.get()
            on:click=move |_| {
                if !loading.get_untracked() && !disabled.get_untracked() {
                    on_click.run(());
                }
            }
        >
            {move || loading.get().then(|| view! { <i class="weui-loading"></i> })}
            {children()}
        </a>
    }
}
