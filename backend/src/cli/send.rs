//! `wxh5 send template|subscribe|custom …` and `wxh5 jobs …`: messages to
//! users through the running server, where the recipient ledger and the
//! outbox live. One recipient is one checked send; several (or a tag) are
//! a bulk job, followed with a progress bar.

use std::{io::IsTerminal, io::Write, process::ExitCode, time::Duration};

use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{
    route::{Route, Server},
    CliError,
};
use crate::notify::outbox::{JobState, JobStatus};

/// How often a job's progress is read.
const POLL: Duration = Duration::from_millis(500);
/// Width of the progress bar, in characters.
const BAR: usize = 30;

/// `wxh5 send …`.
#[derive(Debug, Subcommand)]
pub enum SendCommand {
    /// A template message (模板消息) to followers.
    Template {
        #[command(flatten)]
        to: Recipients,
        /// The template id.
        #[arg(long)]
        template: String,
        /// A keyword value, `thing1=订单已发货` (repeat for each keyword).
        #[arg(long = "data", value_name = "KEY=VALUE")]
        data: Vec<String>,
        /// The page the message opens.
        #[arg(long)]
        url: Option<String>,
        /// A business key: the same key to the same user is the same message
        /// (WeChat drops a resend within 10 minutes).
        #[arg(long)]
        key: Option<String>,
    },
    /// A subscribe notification (订阅通知): needs the user's accept.
    Subscribe {
        #[command(flatten)]
        to: Recipients,
        /// The template id.
        #[arg(long)]
        template: String,
        /// A keyword value, `thing1=订单已发货` (repeat for each keyword).
        #[arg(long = "data", value_name = "KEY=VALUE")]
        data: Vec<String>,
        /// The page the notification opens.
        #[arg(long)]
        page: Option<String>,
    },
    /// A customer-service text message (客服消息): needs an open window.
    Custom {
        #[command(flatten)]
        to: Recipients,
        /// The text.
        #[arg(long)]
        text: String,
    },
}

/// Who receives the message.
#[derive(Debug, Args)]
pub struct Recipients {
    /// An openid (repeat for several: a bulk job).
    #[arg(long = "to", value_name = "OPENID", required_unless_present = "tag")]
    to: Vec<String>,
    /// Every follower with this tag (a bulk job).
    #[arg(long, conflicts_with = "to")]
    tag: Option<u64>,
    /// Sends a second of a bulk job.
    #[arg(long)]
    rate: Option<u32>,
    /// Queue a bulk job and return without following its progress.
    #[arg(long)]
    no_wait: bool,
}

/// `wxh5 jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Every kept job and where it stands.
    List,
    /// Follow one job with a progress bar until it ends.
    Watch {
        /// The job id.
        id: String,
    },
    /// Stop a job after its current batch.
    Cancel {
        /// The job id.
        id: String,
    },
}

/// The running server, or why the command needs one.
async fn server() -> Result<Server, CliError> {
    let config = super::load_config()?;
    match Route::open(&config).await? {
        Route::Server(server) => Ok(server),
        Route::Local { .. } => Err(CliError::usage(
            "messages go through the running server (its recipient ledger and outbox): start it and set WXH5_LISTEN and WXH5_ADMIN_TOKEN here",
        )),
    }
}

/// `KEY=VALUE` pairs as WeChat's `data` object.
fn data(pairs: &[String]) -> Result<Value, CliError> {
    let mut data = Map::new();
    for pair in pairs {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            CliError::usage(format!(
                "--data {pair:?}: write KEY=VALUE, e.g. thing1=订单已发货"
            ))
        })?;
        data.insert(key.trim().to_string(), json!({ "value": value }));
    }
    Ok(Value::Object(data))
}

/// Runs `wxh5 send …`.
pub async fn run(command: SendCommand) -> Result<ExitCode, CliError> {
    let (kind, message, to, key) = match command {
        SendCommand::Template {
            to,
            template,
            data: pairs,
            url,
            key,
        } => {
            let mut message = json!({"template_id": template, "data": data(&pairs)?});
            if let Some(url) = url {
                message["url"] = json!(url);
            }
            ("template", message, to, key)
        }
        SendCommand::Subscribe {
            to,
            template,
            data: pairs,
            page,
        } => {
            let mut message = json!({"template_id": template, "data": data(&pairs)?});
            if let Some(page) = page {
                message["page"] = json!(page);
            }
            ("subscribe", message, to, None)
        }
        SendCommand::Custom { to, text } => (
            "custom",
            json!({"msgtype": "text", "text": {"content": text}}),
            to,
            None,
        ),
    };
    let server = server().await?;
    if let ([openid], None) = (to.to.as_slice(), to.tag) {
        let mut body = message;
        body["touser"] = json!(openid);
        let path = format!("messages/{kind}");
        let sent = match key {
            Some(key) => {
                server
                    .admin_json_keyed::<Value, _>(&path, &body, &key)
                    .await?
            }
            None => {
                server
                    .admin_json::<Value, _>(Method::POST, &path, Some(&body))
                    .await?
            }
        };
        match sent["msgid"].as_i64() {
            Some(msgid) => println!("sent to {openid} (msgid {msgid})"),
            None => println!("sent to {openid}"),
        }
        for warning in sent["warnings"].as_array().into_iter().flatten() {
            println!(
                "  note: {}",
                warning["message"].as_str().unwrap_or_default()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut job = json!({"kind": kind, "message": message});
    match to.tag {
        Some(tag) => job["tag_id"] = json!(tag),
        None => job["touser"] = json!(to.to),
    }
    if let Some(rate) = to.rate {
        job["rate"] = json!(rate);
    }
    let created = server
        .admin_json::<Value, _>(Method::POST, "jobs", Some(&job))
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    println!("job {id} queued");
    if to.no_wait {
        println!("  follow it: wxh5 jobs watch {id}");
        return Ok(ExitCode::SUCCESS);
    }
    watch(&server, &id).await
}

/// Runs `wxh5 jobs …`.
pub async fn run_jobs(command: JobsCommand) -> Result<ExitCode, CliError> {
    let server = server().await?;
    match command {
        JobsCommand::List => {
            let jobs: Vec<JobStatus> = parse(
                server
                    .admin_json::<Value, Value>(Method::GET, "jobs", None)
                    .await?,
            )?;
            if jobs.is_empty() {
                println!("no jobs");
            }
            for job in &jobs {
                println!("{}", line(job));
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Watch { id } => watch(&server, &id).await,
        JobsCommand::Cancel { id } => {
            let job: JobStatus = parse(
                server
                    .admin_json::<Value, Value>(Method::DELETE, &format!("jobs/{id}"), None)
                    .await?,
            )?;
            println!("{}", line(&job));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, CliError> {
    serde_json::from_value(value)
        .map_err(|e| CliError::failed(format!("the server's answer could not be read ({e})")))
}

/// Follows job `id` until it is no longer running; exit 1 if any send failed.
async fn watch(server: &Server, id: &str) -> Result<ExitCode, CliError> {
    let tty = std::io::stdout().is_terminal();
    let mut last_line = String::new();
    // Bounded: a job of 100,000 at 1 a second ends within 28 hours.
    for _ in 0..(28 * 3600 * 2) {
        let value = server
            .admin_json::<Value, Value>(Method::GET, &format!("jobs/{id}"), None)
            .await?;
        let job: JobStatus = parse(value)?;
        let shown = line(&job);
        if tty {
            print!("\r{shown}\x1b[K");
            let _ = std::io::stdout().flush();
        } else if shown != last_line {
            println!("{shown}");
        }
        last_line = shown;
        if job.state != JobState::Running {
            if tty {
                println!();
            }
            for (code, count) in &job.errors {
                println!("  {count} × {code}");
            }
            return Ok(if job.failed == 0 && job.state == JobState::Done {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        tokio::time::sleep(POLL).await;
    }
    Err(CliError::failed(format!(
        "job {id} is still running; follow it with `wxh5 jobs watch {id}`"
    )))
}

/// `[#########.....] 250/500 sent 248 failed 2 (running) job abc`.
fn line(job: &JobStatus) -> String {
    let done = job.sent + job.failed;
    let filled = if job.total == 0 {
        BAR
    } else {
        (done as usize * BAR) / job.total as usize
    };
    let state = match job.state {
        JobState::Running => "running",
        JobState::Done => "done",
        JobState::Cancelled => "cancelled",
    };
    format!(
        "[{}{}] {done}/{} sent {} failed {} ({state}) {} job {}",
        "#".repeat(filled),
        ".".repeat(BAR - filled.min(BAR)),
        job.total,
        job.sent,
        job.failed,
        job.kind.as_str(),
        job.id
    )
}
