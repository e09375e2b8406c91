//! `hexdash config path|check|init`: where the config and data live, whether the config is
//! good, and a documented starting file.

use crate::cli::{Cli, ConfigAction};
use crate::config::{self, Env, Paths};

use super::exit::{Exit, Failure};

pub fn run(cli: &Cli, action: &ConfigAction, env: &dyn Env) -> Result<Exit, Failure> {
    let paths = Paths::resolve(cli.config.as_deref(), env)?;
    match action {
        ConfigAction::Path => {
            let exists = |p: &std::path::Path| if p.exists() { "" } else { " (not created yet)" };
            println!(
                "config file: {}{}",
                paths.config_file.display(),
                exists(&paths.config_file)
            );
            println!("config dir:  {}", paths.config_dir.display());
            println!("data dir:    {}", paths.data_dir.display());
            println!("journal:     {}", paths.journal_file().display());
            println!("logs:        {}", paths.log_dir().display());
            println!("pipelines:   {}", paths.pipelines_dir().display());
        }
        ConfigAction::Check => {
            let report = config::check(&paths, cli.profile.as_deref(), env)?;
            print!("{report}");
        }
        ConfigAction::Init { force } => {
            let written = config::init(&paths, *force)?;
            println!("wrote {}", written.display());
            println!("edit it, then run: hexdash config check");
        }
    }
    Ok(Exit::Completed)
}
