//! The one error body every wxh5 API answers with.

use serde::{Deserialize, Serialize};

/// `{"error":{"code","message"}}`: what every non-2xx API response carries,
/// so the page can show `message` and branch on `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ErrorBody,
}

/// The inside of [`ApiError`]: a stable snake_case `code` and a sentence a
/// developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// Builds an error body from its code and message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_the_documented_shape() {
        let body = ApiError::new("url_missing", "Pass the page URL as ?url=.");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error":{"code":"url_missing","message":"Pass the page URL as ?url=."}})
        );
    }
}
