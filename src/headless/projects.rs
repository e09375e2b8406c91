//! `hexdash projects`: every project of the workspace (all pages), as a table or Hex's JSON.
//! Always listed anew, and stored in the shared cache for the commands that follow.

use crate::cli::ProjectsArgs;
use crate::hex::types::{Project, Schedule};

use super::output::{opt_time, print_table};
use crate::session::{Context, Exit, Failure};

pub async fn run(ctx: &Context, args: &ProjectsArgs) -> Result<Exit, Failure> {
    let projects = ctx.project_list().refresh().await?;
    if args.json {
        super::print_json(&projects)?;
        return Ok(Exit::Completed);
    }
    if projects.is_empty() {
        crate::outln!("no projects are visible to this token");
        return Ok(Exit::Completed);
    }
    let rows: Vec<Vec<String>> = projects.iter().map(|p| row(ctx, p)).collect();
    print_table(
        &["ID", "ALIAS", "TITLE", "PUBLISHED", "OWNER", "SCHEDULE"],
        &rows,
    )
    .map_err(|e| Failure::local(format!("cannot write output: {e}")))?;
    Ok(Exit::Completed)
}

fn row(ctx: &Context, p: &Project) -> Vec<String> {
    let alias = ctx
        .config
        .project(&p.id)
        .and_then(|c| c.alias.clone())
        .unwrap_or_default();
    vec![
        p.id.clone(),
        alias,
        p.title.clone(),
        if p.is_published() {
            opt_time(&p.last_published_at)
        } else {
            "no".into()
        },
        p.owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        schedules(&p.schedules),
    ]
}

/// `DAILY 06:00 UTC`, or `-` without enabled schedules.
pub fn schedules(list: &[Schedule]) -> String {
    let parts: Vec<String> = list
        .iter()
        .filter(|s| s.enabled)
        .map(|s| {
            let timing = [&s.hourly, &s.daily, &s.weekly, &s.monthly, &s.custom]
                .into_iter()
                .flatten()
                .next();
            match timing {
                Some(t) if t.cron.is_some() => {
                    format!("{} {}", s.cadence, t.cron.as_deref().unwrap_or(""))
                }
                Some(t) => {
                    let mut text = s.cadence.clone();
                    if let Some(d) = &t.day_of_week {
                        text.push_str(&format!(" {d}"));
                    }
                    if let Some(d) = t.day {
                        text.push_str(&format!(" day {d}"));
                    }
                    match (t.hour, t.minute) {
                        (Some(h), Some(m)) => text.push_str(&format!(" {h:02}:{m:02}")),
                        (None, Some(m)) => text.push_str(&format!(" :{m:02}")),
                        _ => {}
                    }
                    if let Some(tz) = &t.timezone {
                        text.push_str(&format!(" {tz}"));
                    }
                    text
                }
                None => s.cadence.clone(),
            }
        })
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}
