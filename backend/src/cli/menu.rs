//! `wxh5 menu …`: the account's menus as a reviewed file. `check` needs no
//! network; `plan`, `apply`, `pull`, `delete` and `trymatch` reach WeChat
//! through the running server (its `/api/admin/menu` endpoints) or this
//! process, as every CLI call does ([`Route`]).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::Subcommand;
use reqwest::Method;
use wxh5_shared::menu::{
    self, plan, Applied, Button, Checked, Deleted, Format, Matched, MenuFile, TryMatch,
};

use super::{route::Route, CliError};
use crate::{
    config::Config,
    menus::{self, Menus, MAX_FILE_BYTES},
};

/// `wxh5 menu …`.
#[derive(Debug, Subcommand)]
pub enum MenuCommand {
    /// Check a menu file (JSON, or TOML for a .toml name) against WeChat's
    /// rules: exit 0 when valid, 1 with one line per problem.
    Check {
        /// The menu file.
        file: PathBuf,
    },
    /// What applying the file would change against the live menus.
    Plan {
        /// The menu file.
        file: PathBuf,
    },
    /// Plan, then make the live menus what the file says: the default menu
    /// (menu/create) and the conditional menus (replaced in order).
    Apply {
        /// The menu file.
        file: PathBuf,
    },
    /// The live menus as a file that `apply` reproduces.
    Pull {
        /// Write it here (TOML for a .toml name) instead of printing JSON.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Delete the default menu and every conditional menu.
    Delete,
    /// Which menu a follower sees.
    Trymatch {
        /// The follower's openid (or WeChat id).
        openid: String,
    },
}

/// Runs `wxh5 menu …`.
pub async fn run(command: MenuCommand) -> Result<ExitCode, CliError> {
    match command {
        MenuCommand::Check { file } => {
            let config = Config::from_env().ok();
            if config.is_none() {
                eprintln!("wxh5: the configuration does not load; the view pages' domains are not checked (WXH5_JS_DOMAINS, WXH5_OAUTH_DOMAINS)");
            }
            let checked = read_checked(&file, config.as_ref())?;
            print_problems(&file, &checked);
            Ok(if checked.errors() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        MenuCommand::Plan { file } => {
            let config = super::load_config()?;
            let Some(wanted) = valid_file(&file, &config)? else {
                return Ok(ExitCode::from(1));
            };
            let route = Route::open(&config).await?;
            let live = live(&route).await?;
            print!("{}", plan(&live, &wanted).render());
            Ok(ExitCode::SUCCESS)
        }
        MenuCommand::Apply { file } => {
            let config = super::load_config()?;
            let Some(wanted) = valid_file(&file, &config)? else {
                return Ok(ExitCode::from(1));
            };
            let route = Route::open(&config).await?;
            let planned = plan(&live(&route).await?, &wanted);
            print!("{}", planned.render());
            if planned.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            let applied = match &route {
                Route::Local { wechat, .. } => Menus::new(wechat).apply(&wanted).await?,
                Route::Server(server) => {
                    server
                        .admin_json::<Applied, _>(Method::PUT, "menu", Some(&wanted))
                        .await?
                }
            };
            print_applied(&applied);
            Ok(ExitCode::SUCCESS)
        }
        MenuCommand::Pull { out } => {
            let config = super::load_config()?;
            let route = Route::open(&config).await?;
            let live = live(&route).await?;
            match out {
                None => println!("{}", to_text(&live, Format::Json)?),
                Some(path) => {
                    let text = to_text(&live, Format::of_path(&path.to_string_lossy()))?;
                    std::fs::write(&path, text).map_err(|e| {
                        CliError::failed(format!("{} cannot be written: {e}", path.display()))
                    })?;
                    println!(
                        "Wrote the live menus ({} buttons, {} conditional menus) to {}.",
                        live.button.len(),
                        live.conditional.len(),
                        path.display()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        MenuCommand::Delete => {
            let config = super::load_config()?;
            let route = Route::open(&config).await?;
            match &route {
                Route::Local { wechat, .. } => Menus::new(wechat).delete().await?,
                Route::Server(server) => {
                    server
                        .admin_json::<Deleted, ()>(Method::DELETE, "menu", None)
                        .await?;
                }
            }
            println!("Deleted the default menu and every conditional menu.");
            Ok(ExitCode::SUCCESS)
        }
        MenuCommand::Trymatch { openid } => {
            let config = super::load_config()?;
            let route = Route::open(&config).await?;
            let matched = match &route {
                Route::Local { wechat, .. } => Menus::new(wechat).try_match(&openid).await?,
                Route::Server(server) => {
                    let body = TryMatch {
                        user_id: openid.clone(),
                    };
                    server
                        .admin_json::<Matched, _>(Method::POST, "menu/trymatch", Some(&body))
                        .await?
                }
            };
            let which = match matched.menu.as_str() {
                "" => "a menu that is not among the live ones".to_string(),
                "default" => "the default menu".to_string(),
                rule => format!("the conditional menu [{rule}]"),
            };
            println!("{openid} sees {which}:");
            print_buttons(&matched.button);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The live menus, through the route.
async fn live(route: &Route) -> Result<MenuFile, CliError> {
    Ok(match route {
        Route::Local { wechat, .. } => Menus::new(wechat).live().await?,
        Route::Server(server) => {
            server
                .admin_json::<MenuFile, ()>(Method::GET, "menu", None)
                .await?
        }
    })
}

/// Reads and checks a menu file (`config`: its page domains too).
fn read_checked(path: &Path, config: Option<&Config>) -> Result<Checked, CliError> {
    let size = std::fs::metadata(path)
        .map_err(|e| CliError::usage(format!("{} cannot be read: {e}", path.display())))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(CliError::usage(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes: not a menu file",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{} cannot be read: {e}", path.display())))?;
    let format = Format::of_path(&path.to_string_lossy());
    Ok(match config {
        Some(config) => menus::check_text(config, &text, format),
        None => match menu::parse(&text, format) {
            Ok(value) => menu::check(&value, &menu::Options::default()),
            Err(problem) => Checked {
                file: None,
                problems: vec![problem],
            },
        },
    })
}

/// The file when it has no errors; otherwise its problems are printed and
/// `None` comes back (exit 1, nothing sent).
fn valid_file(path: &Path, config: &Config) -> Result<Option<MenuFile>, CliError> {
    let checked = read_checked(path, Some(config))?;
    if checked.errors() > 0 || checked.warnings() > 0 {
        print_problems(path, &checked);
    }
    Ok(checked.valid().cloned())
}

/// One line per problem, then the count.
fn print_problems(path: &Path, checked: &Checked) {
    for problem in &checked.problems {
        println!(
            "{}: {} [{}]",
            problem.severity.label(),
            problem.message,
            problem.rule
        );
    }
    let (errors, warnings) = (checked.errors(), checked.warnings());
    if errors == 0 {
        println!(
            "{}: valid ({warnings} warning{}).",
            path.display(),
            if warnings == 1 { "" } else { "s" }
        );
        if let Some(file) = &checked.file {
            println!("  {}.", menu::quota_note(file));
        }
    } else {
        println!(
            "{}: {errors} error{}, {warnings} warning{}; nothing was sent.",
            path.display(),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        );
    }
}

fn print_applied(applied: &Applied) {
    if applied.default_created {
        println!("Created the default menu.");
    }
    for menuid in &applied.deleted {
        println!("Deleted conditional menu {menuid}.");
    }
    for menu in &applied.conditional {
        let what = if menu.added { "added" } else { "kept" };
        println!(
            "Conditional menu [{}]: menuid {} ({what}).",
            menu.matchrule.label(),
            menu.menuid
        );
    }
}

/// A menu's buttons as an indented tree.
fn print_buttons(buttons: &[Button]) {
    for button in buttons {
        println!("  {:?} ({})", button.name(), button.summary());
        for sub in &button.sub_button {
            println!("    {:?} ({})", sub.name(), sub.summary());
        }
    }
}

/// The file's text in `format`.
fn to_text(file: &MenuFile, format: Format) -> Result<String, CliError> {
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(file).expect("menu files serialize")),
        Format::Toml => toml::to_string_pretty(file)
            .map_err(|e| CliError::failed(format!("the menus cannot be written as TOML: {e}"))),
    }
}
