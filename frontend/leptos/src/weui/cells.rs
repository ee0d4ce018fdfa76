use leptos::{prelude::*, text_prop::TextProp};

/// A WeUI cell group (`weui-cells`) with an optional title above and tips
/// below.
#[component]
pub fn Cells(
    /// Grey title above the group.
    #[prop(optional)]
    title: &'static str,
    /// Small print below the group.
    #[prop(optional)]
    tips: &'static str,
    /// Extra classes of the group.
    #[prop(optional)]
    class: &'static str,
    /// The cells.
    children: Children,
) -> impl IntoView {
    view! {
        {(!title.is_empty()).then(|| view! { <div class="weui-cells__title">{title}</div> })}
        <div class=wxh5_core::js::concat(&["weui-cells ", class])>{children()}</div>
        {(!tips.is_empty()).then(|| view! { <div class="weui-cells__tips">{tips}</div> })}
    }
}

/// One WeUI cell: a label on the left and, optionally, a value on the
/// right (`weui-cell__ft`), live when it is a closure.
#[component]
pub fn Cell(
    /// The left-hand text.
    label: &'static str,
    /// The right-hand text.
    #[prop(optional, into)]
    value: Option<TextProp>,
    /// Extra classes of the right-hand text (e.g. a test hook).
    #[prop(optional)]
    value_class: &'static str,
) -> impl IntoView {
    view! {
        <div class="weui-cell">
            <div class="weui-cell__bd"><p>{label}</p></div>
            {value.map(|v| view! { <div class=wxh5_core::js::concat(&["weui-cell__ft ", value_class])>{move || v.get()}</div> })}
        </div>
    }
}

/// A WeUI cell that links somewhere (`weui-cell_access`, with an arrow):
/// a label, a value, and where it goes.
#[component]
pub fn LinkCell(
    /// The left-hand text.
    label: &'static str,
    /// Where it goes.
    href: &'static str,
    /// The right-hand text.
    #[prop(optional, into)]
    value: Option<TextProp>,
    /// Extra classes of the right-hand text (e.g. a test hook).
    #[prop(optional)]
    value_class: &'static str,
) -> impl IntoView {
    view! {
        <a class="weui-cell weui-cell_access" href=href>
            <div class="weui-cell__bd"><p>{label}</p></div>
            {value.map(|v| view! { <div class=wxh5_core::js::concat(&["weui-cell__ft ", value_class])>{move || v.get()}</div> })}
        </a>
    }
}
