//! Who decides what an order costs: never the page. The default is the
//! catalog file (`WXH5_PAY_CATALOG`); a program embedding wxh5 can price
//! orders itself (a database, a coupon, a member price) by implementing
//! [`Pricer`] and starting the server with it.

use std::{collections::BTreeMap, sync::Arc};

use serde::Deserialize;

/// Most items one order may hold.
pub const MAX_QUANTITY: u32 = 99;
/// WeChat Pay's `description` limit (characters).
pub const MAX_DESCRIPTION_CHARS: usize = 127;
/// WeChat Pay's `total` is a 32-bit integer of fen.
pub const MAX_TOTAL_FEN: u64 = i32::MAX as u64;

/// A priced order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// What the user sees in WeChat's cashier and bill (≤ 127 characters).
    pub description: String,
    /// What the user pays, in fen.
    pub total_fen: u64,
}

/// Why an order cannot be priced; the message is shown to the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("there is no item {0:?}")]
    UnknownSku(String),
    #[error("the quantity must be between 1 and {MAX_QUANTITY}")]
    Quantity,
    #[error("{0}")]
    Refused(String),
}

/// Prices an order from what the page asked for and who asks.
#[async_trait::async_trait]
pub trait Pricer: Send + Sync + 'static {
    /// The description and amount of `quantity` × `sku` for the user
    /// `openid`.
    async fn price(&self, sku: &str, quantity: u32, openid: &str) -> Result<Priced, PricingError>;
}

/// The pricer handlers share.
pub type SharedPricer = Arc<dyn Pricer>;

/// One catalog item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub name: String,
    pub price_fen: u64,
}

/// The demo catalog's file: what simulator mode sells.
pub const DEMO_CATALOG: &str =
    "[latte]\nname = \"拿铁咖啡\"\nprice_fen = 1800\n\n[cookie]\nname = \"曲奇饼干\"\nprice_fen = 650\n";

/// sku → item, read from a TOML file:
///
/// ```toml
/// [latte]
/// name = "拿铁咖啡"
/// price_fen = 1800
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    items: BTreeMap<String, Item>,
}

/// A sku: 1–32 characters of `[A-Za-z0-9_-]`.
pub fn is_sku(sku: &str) -> bool {
    (1..=32).contains(&sku.len())
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Catalog {
    /// Parses and checks a catalog file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let items: BTreeMap<String, Item> =
            toml::from_str(text).map_err(|e| format!("is not a valid catalog ({e})"))?;
        for (sku, item) in &items {
            if !is_sku(sku) {
                return Err(format!(
                    "has the sku {sku:?}; use 1–32 characters of A-Z, a-z, 0-9, _ and -"
                ));
            }
            let chars = item.name.chars().count();
            if chars == 0 || chars > MAX_DESCRIPTION_CHARS - 4 {
                return Err(format!(
                    "has a name for {sku:?} that is empty or longer than {} characters",
                    MAX_DESCRIPTION_CHARS - 4
                ));
            }
            if item.price_fen == 0 || item.price_fen > MAX_TOTAL_FEN {
                return Err(format!(
                    "prices {sku:?} at {} fen; use a whole number of fen from 1 to {MAX_TOTAL_FEN}",
                    item.price_fen
                ));
            }
        }
        Ok(Self { items })
    }

    /// The simulator's two-item demo catalog ([`DEMO_CATALOG`]).
    pub fn demo() -> Self {
        Self::parse(DEMO_CATALOG).expect("the demo catalog is valid")
    }

    /// The items, by sku.
    pub fn items(&self) -> &BTreeMap<String, Item> {
        &self.items
    }
}

#[async_trait::async_trait]
impl Pricer for Catalog {
    async fn price(&self, sku: &str, quantity: u32, _openid: &str) -> Result<Priced, PricingError> {
        let item = self
            .items
            .get(sku)
            .ok_or_else(|| PricingError::UnknownSku(sku.chars().take(32).collect()))?;
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(PricingError::Quantity);
        }
        let total_fen = item
            .price_fen
            .checked_mul(u64::from(quantity))
            .filter(|t| *t <= MAX_TOTAL_FEN)
            .ok_or_else(|| PricingError::Refused("the order is too large".into()))?;
        let description = if quantity == 1 {
            item.name.clone()
        } else {
            format!("{} ×{quantity}", item.name)
        };
        Ok(Priced {
            description,
            total_fen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catalog_prices_in_fen() {
        let catalog = Catalog::demo();
        let one = catalog.price("latte", 1, "o").await.unwrap();
        assert_eq!(
            (one.description.as_str(), one.total_fen),
            ("拿铁咖啡", 1800)
        );
        let three = catalog.price("cookie", 3, "o").await.unwrap();
        assert_eq!(
            (three.description.as_str(), three.total_fen),
            ("曲奇饼干 ×3", 1950)
        );
        assert_eq!(
            catalog.price("tea", 1, "o").await,
            Err(PricingError::UnknownSku("tea".into()))
        );
        assert_eq!(
            catalog.price("latte", 0, "o").await,
            Err(PricingError::Quantity)
        );
        assert_eq!(
            catalog.price("latte", 100, "o").await,
            Err(PricingError::Quantity)
        );
    }

    #[test]
    fn catalog_file_is_checked() {
        for bad in [
            "[latte]\nname = \"x\"\nprice_fen = 0\n",
            "[latte]\nname = \"x\"\nprice_fen = 9.8\n",
            "[latte]\nname = \"x\"\nprice_fen = -1\n",
            "[latte]\nname = \"\"\nprice_fen = 1\n",
            "[\"la te\"]\nname = \"x\"\nprice_fen = 1\n",
            "[latte]\nname = \"x\"\nprice_fen = 1\nprice_yuan = 1\n",
            "[latte]\nname = \"x\"\nprice_fen = 3000000000\n",
            "not toml",
        ] {
            assert!(Catalog::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Catalog::demo().items().len(), 2);
    }
}
