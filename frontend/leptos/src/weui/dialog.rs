use leptos::{prelude::*, text_prop::TextProp};

/// WeUI's dialog (`weui-dialog` over a mask, `role="dialog"`), one or two
/// buttons.
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::weui::Dialog;
/// # fn v() -> impl IntoView {
/// let open = RwSignal::new(true);
/// view! { <Show when=move || open.get()><Dialog title="提示" body="已保存" on_confirm=move || open.set(false) /></Show> }
/// # }
/// ```
#[component]
pub fn Dialog(
    /// Headline.
    #[prop(into)]
    title: String,
    /// Text.
    #[prop(into)]
    body: String,
    /// The main button's label (知道了 when absent).
    #[prop(optional)]
    confirm_label: Option<&'static str>,
    /// What the main button does.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// A second, grey button ("取消" and what it does).
    #[prop(optional)]
    cancel: Option<(&'static str, Callback<()>)>,
) -> impl IntoView {
    view! {
        <div class="wxh5-dialog" role="dialog" aria-modal="true">
            <div class="weui-mask"></div>
            <div class="weui-dialog">
                <div class="weui-dialog__hd"><strong class="weui-dialog__title">{title}</strong></div>
                <div class="weui-dialog__bd">{body}</div>
                <div class="weui-dialog__ft">
                    {cancel.map(|(label, run)| view! {
                        <a role="button" class="weui-dialog__btn weui-dialog__btn_default" on:click=move |_| run.run(())>{label}</a>
                    })}
                    <a role="button" class="weui-dialog__btn weui-dialog__btn_primary" on:click=move |_| on_confirm.run(())>
                        {confirm_label.unwrap_or("知道了")}
                    </a>
                </div>
            </div>
        </div>
    }
}

/// WeUI's toast: a tick and a short text over a transparent mask (it
/// blocks taps while it shows; hide it after a moment).
#[component]
pub fn Toast(
    /// The text.
    #[prop(into)]
    text: TextProp,
    /// A spinner instead of the tick.
    #[prop(optional)]
    loading: bool,
) -> impl IntoView {
    let icon = if loading {
        "weui-loading weui-icon_toast"
    } else {
        "weui-icon-success-no-circle weui-icon_toast"
    };
    view! {
        <div role="alert" class="wxh5-toast">
            <div class="weui-mask_transparent"></div>
            <div class="weui-toast">
                <i class=icon></i>
                <p class="weui-toast__content">{move || text.get()}</p>
            </div>
        </div>
    }
}

/// WeUI's "loading" line (`weui-loadmore`).
#[component]
pub fn Loading(
    /// What is being waited for.
    #[prop(default = "正在加载")]
    text: &'static str,
) -> impl IntoView {
    view! {
        <div class="weui-loadmore">
            <i class="weui-loading"></i>
            <span class="weui-loadmore__tips">{text}</span>
        </div>
    }
}
