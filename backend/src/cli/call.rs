//! `wxh5 call METHOD PATH [--json BODY | --json-file F]`: the gateway's
//! logic from the command line. Prints WeChat's answer (JSON pretty
//! printed, `--raw` as it came); exits 1 when WeChat answered an errcode,
//! with the table's hint on stderr.

use std::{path::PathBuf, process::ExitCode};

use axum::body::Bytes;
use clap::Args;

use super::{describe_errcode, route::Route, CliError};

/// Options of `wxh5 call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// GET or POST (any method WeChat takes).
    pub method: String,
    /// The API path with its query, e.g. cgi-bin/menu/get or
    /// /cgi-bin/user/info?openid=o…; wxh5 adds the access_token.
    pub path: String,
    /// The JSON body.
    #[arg(long, conflicts_with = "json_file")]
    pub json: Option<String>,
    /// A file holding the JSON body.
    #[arg(long)]
    pub json_file: Option<PathBuf>,
    /// Print WeChat's answer byte for byte instead of pretty-printed.
    #[arg(long)]
    pub raw: bool,
}

/// The largest body read from --json or --json-file.
const MAX_BODY: u64 = 16 * 1024 * 1024;

/// Runs `wxh5 call`.
pub async fn run(args: CallArgs) -> Result<ExitCode, CliError> {
    let config = super::load_config()?;
    let method =
        reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            CliError::usage(format!(
                "{:?} is not an HTTP method; use GET or POST",
                args.method
            ))
        })?;
    let trimmed = args.path.trim().trim_start_matches('/');
    let (path, query) = trimmed.split_once('?').unwrap_or((trimmed, ""));
    if crate::gateway::is_credential_path(path) {
        return Err(CliError::usage(format!(
            "{path} is not called directly: the server holds the token (run `wxh5 doctor` to test the credentials, `wxh5 quota clear-v2` to reset quotas with the secret)"
        )));
    }
    if !crate::gateway::path_allowed(path) {
        return Err(CliError::usage(format!(
            "{path:?} is not one of WeChat's server APIs ({}; never sns/)",
            crate::wechat::spec::spec().families.join(", ")
        )));
    }
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("access_token"))
    {
        return Err(CliError::usage(
            "leave access_token out of the query: wxh5 adds the live one",
        ));
    }
    let body = match (&args.json, &args.json_file) {
        (Some(json), _) => Some(Bytes::from(json.clone())),
        (None, Some(file)) => {
            let size = std::fs::metadata(file)
                .map_err(|e| CliError::usage(format!("{} cannot be read: {e}", file.display())))?
                .len();
            if size > MAX_BODY {
                return Err(CliError::usage(format!(
                    "{} is larger than {MAX_BODY} bytes",
                    file.display()
                )));
            }
            let bytes = std::fs::read(file)
                .map_err(|e| CliError::usage(format!("{} cannot be read: {e}", file.display())))?;
            Some(Bytes::from(bytes))
        }
        (None, None) => None,
    };
    if let Some(body) = &body {
        serde_json::from_slice::<serde_json::Value>(body)
            .map_err(|e| CliError::usage(format!("the body is not JSON: {e}")))?;
    }
    let route = Route::open(&config).await?;
    let answer = route.forward(method, path, query, body).await?;
    let parsed = serde_json::from_slice::<serde_json::Value>(&answer.body).ok();
    match (&parsed, args.raw) {
        (Some(json), false) => println!(
            "{}",
            serde_json::to_string_pretty(json).expect("JSON prints")
        ),
        _ => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&answer.body)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| CliError::failed(format!("cannot write the answer: {e}")))?;
        }
    }
    let errcode = parsed
        .as_ref()
        .and_then(|v| v.get("errcode"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    if errcode != 0 {
        let errmsg = parsed
            .as_ref()
            .and_then(|v| v.get("errmsg"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        eprintln!(
            "wxh5: {}",
            describe_errcode(errcode, errmsg, Some(&format!("/{path}")))
        );
        return Ok(ExitCode::from(1));
    }
    if answer.status != 200 {
        eprintln!("wxh5: WeChat answered HTTP {}", answer.status);
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
