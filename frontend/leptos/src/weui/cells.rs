use leptos::{prelude::*, text_prop::TextProp};

/// A WeUI cell group (`weui-cells`) with an optional title above and tips
/// below.
#[component]
pub fn Cells(
    /// Grey title above the group.
    #[prop(optional, into)]
    title: Option<TextProp>,
    /// Small print below the group.
    #[prop(optional, into)]
    tips: Option<TextProp>,
    /// Extra classes of the group.
    #[prop(optional)]
    class: &'static str,
    /// The cells.
    children: Children,
) -> impl IntoView {
    view! {
        {title.map(|t| view! { <div class="weui-cells__title">{move || t.get()}</div> })}
        <div class=wxh5_core::js::concat(&["weui-cells ", class])>{children()}</div>
        {tips.map(|t| view! { <div class="weui-cells__tips">{move || t.get()}</div> })}
    }
}

/// One WeUI cell: a label on the left, an optional value on the right, an
/// arrow when it links somewhere (`href`); `children`, if any, go under
/// the label.
#[component]
pub fn Cell(
    /// The left-hand text.
    #[prop(into)]
    label: TextProp,
    /// The right-hand text (`weui-cell__ft`).
    #[prop(optional, into)]
    value: Option<TextProp>,
    /// Makes the cell a link with an arrow (`weui-cell_access`).
    #[prop(optional)]
    href: Option<&'static str>,
    /// Extra classes of the right-hand text (e.g. a test hook).
    #[prop(optional)]
    value_class: &'static str,
    /// More content under the label.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let body = view! {
        <div class="weui-cell__bd">
            <p>{move || label.get()}</p>
            {children.map(|c| c())}
        </div>
        {value.map(|v| view! { <div class=wxh5_core::js::concat(&["weui-cell__ft ", value_class])>{move || v.get()}</div> })}
    };
    match href {
        Some(href) => {
            view! { <a class="weui-cell weui-cell_access" href=href>{body}</a> }.into_any()
        }
        None => view! { <div class="weui-cell">{body}</div> }.into_any(),
    }
}
