use leptos::prelude::*;

/// WeUI's action sheet: a list of choices sliding up from the bottom, and
/// 取消. `on_select` gets the index of the choice.
///
/// ```no_run
/// # use leptos::prelude::*; use wxh5_leptos::weui::ActionSheet;
/// # fn v() -> impl IntoView {
/// let open = RwSignal::new(false);
/// view! {
///     <ActionSheet show=open title="分享到" items=&["朋友", "朋友圈"]
///         on_select=Callback::new(move |i: usize| { let _ = i; open.set(false) })
///         on_cancel=move || open.set(false) />
/// }
/// # }
/// ```
#[component]
pub fn ActionSheet(
    /// Whether it shows (nothing is rendered otherwise).
    #[prop(into)]
    show: Signal<bool>,
    /// A line above the choices, or empty.
    #[prop(optional)]
    title: &'static str,
    /// The choices.
    items: &'static [&'static str],
    /// A choice was tapped.
    on_select: Callback<usize>,
    /// 取消 or the mask was tapped.
    #[prop(into)]
    on_cancel: Callback<()>,
) -> impl IntoView {
    move || {
        show.get().then(|| {
            view! {
                <div class="wxh5-actionsheet">
                    <div class="weui-mask" on:click=move |_| on_cancel.run(())></div>
                    <div class="weui-actionsheet weui-actionsheet_toggle" role="dialog" aria-modal="true">
                        {(!title.is_empty()).then(|| view! {
                            <div class="weui-actionsheet__title"><p class="weui-actionsheet__title-text">{title}</p></div>
                        })}
                        <div class="weui-actionsheet__menu">
                            {items
                                .iter()
                                .enumerate()
                                .map(|(i, item)| view! {
                                    <div role="button" class="weui-actionsheet__cell" on:click=move |_| on_select.run(i)>{*item}</div>
                                })
                                .collect_view()}
                        </div>
                        <div class="weui-actionsheet__action">
                            <div role="button" class="weui-actionsheet__cell" on:click=move |_| on_cancel.run(())>"取消"</div>
                        </div>
                    </div>
                </div>
            }
        })
    }
}

/// WeUI's image uploader: a title with a count, the chosen pictures as
/// thumbnails, and a "+" tile while fewer than `max` are chosen. The page
/// fills `files` (e.g. from `wxh5_core::jssdk::choose_image`).
#[component]
pub fn Uploader(
    /// 图片上传.
    #[prop(into)]
    title: String,
    /// Picture URLs or `localId`s.
    #[prop(into)]
    files: Signal<Vec<String>>,
    /// At most this many.
    max: usize,
    /// The "+" tile was tapped.
    #[prop(into)]
    on_add: Callback<()>,
    /// A thumbnail was tapped (its URL).
    on_open: Callback<String>,
) -> impl IntoView {
    let count = move || {
        let mut text = wxh5_core::js::u64_text(files.with(Vec::len) as u64);
        text.push('/');
        wxh5_core::js::push_u64(&mut text, max as u64);
        text
    };
    view! {
        <div class="weui-uploader wxh5-uploader">
            <div class="weui-uploader__hd">
                <p class="weui-uploader__title">{title}</p>
                <div class="weui-uploader__info">{count}</div>
            </div>
            <div class="weui-uploader__bd">
                <ul class="weui-uploader__files">
                    {move || files
                        .get()
                        .into_iter()
                        .map(|url| {
                            let style = wxh5_core::js::concat(&["background-image:url(", &url, ")"]);
                            view! {
                                <li role="button" class="weui-uploader__file" style=style on:click=move |_| on_open.run(url.clone())></li>
                            }
                        })
                        .collect_view()}
                </ul>
                {move || (files.with(Vec::len) < max).then(|| view! {
                    <div class="weui-uploader__input-box" role="button" on:click=move |_| on_add.run(())></div>
                })}
            </div>
        </div>
    }
}
