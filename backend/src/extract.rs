//! Extractors whose rejections are [`AppError`]s, so even a malformed query
//! string or body gets the JSON error shape.

use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts,
    },
    response::{IntoResponse, Response},
};
use serde::Serialize;
use wxh5_shared::ErrorCode;

use crate::error::AppError;

/// `axum::extract::Query` with JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::Json` with JSON errors, also usable as a response.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::bad_request(
            ErrorCode::InvalidQuery,
            format!(
                "The query string could not be read: {}.",
                rejection.body_text()
            ),
        )
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        AppError::new(
            rejection.status(),
            ErrorCode::InvalidJson,
            format!(
                "The JSON body could not be read: {}.",
                rejection.body_text()
            ),
        )
    }
}
