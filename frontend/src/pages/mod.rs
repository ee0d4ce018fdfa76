//! The screens of the page, one module each.

pub mod diag;
pub mod home;
pub mod jssdk;
pub mod tags;
pub mod theme;
