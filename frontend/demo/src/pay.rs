//! 支付: the backend's catalog, each item with the kit's pay button.

use leptos::prelude::*;
use wxh5_leptos::{
    core::pay,
    pay::PayButton,
    weui::{Cells, Loading},
};

/// The catalog and a pay button per item.
#[component]
pub fn PayDemo() -> impl IntoView {
    let catalog = LocalResource::new(pay::catalog);
    view! {
        <Cells title="微信支付（JSAPI）" tips="金额以服务器的商品目录为准；支付成功以服务器确认为准。" class="wxh5-pay-demo">
            {move || match catalog.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(e)) => view! { <div class="weui-cell"><p class="wxh5-pay-error">{e.message()}</p></div> }.into_any(),
                Some(Ok(items)) => items
                    .into_iter()
                    .map(|item| {
                        let label = wxh5_leptos::core::js::concat(&["¥", &pay::yuan(item.price_fen), " 购买"]);
                        let sku = item.sku.clone();
                        view! {
                            <div class="weui-cell wxh5-pay-item" data-sku=item.sku>
                                <div class="weui-cell__bd"><p>{item.name}</p></div>
                                <div class="weui-cell__ft"><PayButton sku=sku label=label /></div>
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any(),
            }}
        </Cells>
    }
}
