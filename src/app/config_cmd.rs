//! `hexdash config path|check|init`: where the config and data live, whether the config is
//! good, and a documented starting file.

use crate::cli::{Cli, ConfigAction};
use crate::config::{self, Env, Paths};

use crate::session::{Exit, Failure};

pub fn run(cli: &Cli, action: &ConfigAction, env: &dyn Env) -> Result<Exit, Failure> {
    let paths = Paths::resolve(cli.config.as_deref(), env)?;
    match action {
        ConfigAction::Path => {
            let exists = |p: &std::path::Path| if p.exists() { "" } else { " (not created yet)" };
            crate::outln!(
                "config file: {}{}",
                paths.config_file.display(),
                exists(&paths.config_file)
            );
            crate::outln!("config dir:  {}", paths.config_dir.display());
            crate::outln!("data dir:    {}", paths.data_dir.display());
            crate::outln!("store:       {}", paths.store_file().display());
            crate::outln!("logs:        {}", paths.log_dir().display());
            crate::outln!("pipelines:   {}", paths.pipelines_dir().display());
            match &paths.ledger_dir {
                Some(dir) => crate::outln!("ledger dir:  {}", dir.display()),
                None => crate::outln!("ledger dir:  none (set HEXDASH_LEDGER_DIR)"),
            }
        }
        ConfigAction::Check => {
            let mut report = config::check(&paths, cli.profile.as_deref(), env)?;
            // The same warnings the dashboard shows at start: a binding that does not parse or
            // names no action is found here, not when someone presses the key.
            let loaded = config::Config::load(&paths)?;
            let (_, key_warnings) = crate::tui::keymap::KeyMap::from_config(&loaded);
            report.warnings.extend(key_warnings);
            print!("{}", crate::safe_text::escape_block(&report.to_string()));
        }
        ConfigAction::Init { force } => {
            let written = config::init(&paths, *force)?;
            crate::outln!("wrote {}", written.display());
            crate::outln!("edit it, then run: hexdash config check");
        }
    }
    Ok(Exit::Completed)
}
