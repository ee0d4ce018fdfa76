//! Small helpers over `js_sys` that keep the WASM small: objects built
//! field by field, fields read with `Reflect`, numbers turned into text
//! without `core::fmt`.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A JS object built field by field (the options of a `wx` call).
pub(crate) struct Obj(pub(crate) Object);

impl Obj {
    pub(crate) fn new() -> Self {
        Self(Object::new())
    }

    pub(crate) fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    pub(crate) fn strings<'a>(self, key: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        let array: Array = values.into_iter().map(JsValue::from_str).collect();
        self.set(key, array)
    }
}

/// `object[key]`, `undefined` when missing.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string field.
pub(crate) fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// A string field, empty when missing.
pub(crate) fn text(object: &JsValue, key: &str) -> String {
    get_string(object, key).unwrap_or_default()
}

/// A number field; numeric strings are converted by JS (`parseFloat`), not
/// by Rust's float parser, which would cost WASM size.
pub(crate) fn get_f64(object: &JsValue, key: &str) -> Option<f64> {
    let value = get(object, key);
    value.as_f64().or_else(|| {
        let number = js_sys::Number::parse_float(&value.as_string()?);
        (!number.is_nan()).then_some(number)
    })
}

/// An array field, or a JSON text of an array (Android WeChat sends some
/// lists that way).
pub(crate) fn get_array(object: &JsValue, key: &str) -> Array {
    let mut value = get(object, key);
    if let Some(json) = value.as_string() {
        value = js_sys::JSON::parse(&json).unwrap_or(JsValue::UNDEFINED);
    }
    if Array::is_array(&value) {
        value.unchecked_into()
    } else {
        Array::new()
    }
}

/// The strings of an array field (see [`get_array`]).
pub(crate) fn get_strings(object: &JsValue, key: &str) -> Vec<String> {
    get_array(object, key)
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

/// The message of a thrown JS value.
pub(crate) fn error_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Appends the decimal digits of `n` (no `core::fmt`).
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[at..] {
        out.push(*d as char);
    }
}

/// The decimal text of `n` (no `core::fmt`).
pub fn u64_text(n: u64) -> String {
    let mut out = String::new();
    push_u64(&mut out, n);
    out
}

/// `value` with `digits` decimals, through JS's `toFixed` (Rust's float
/// formatting would cost WASM size).
pub fn fixed(value: f64, digits: u8) -> String {
    js_sys::Number::from(value)
        .to_fixed(digits.min(100))
        .map(String::from)
        .unwrap_or_default()
}

/// Concatenates `parts` (a `format!` without `core::fmt`).
pub fn concat(parts: &[&str]) -> String {
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_text() {
        for n in [0, 7, 10, 1_700_000_000, u64::MAX] {
            assert_eq!(u64_text(n), n.to_string());
        }
    }
}
