//! `:log`: the operator's log over the screen — the newest launches, reruns and cancels done
//! through hexdash on this data dir, by any of its processes: when, who, what, from where, on
//! which project and run, and how it ended. `hexdash log` prints all of it (JSON, CSV).

use crate::hex::short_id;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::overlay::{boxed, printable};
use super::style;
use crate::journal::{ActionKind, OperatorAction};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    model: &crate::tui::model::Model,
    actions: &[OperatorAction],
) {
    let width = usize::from(area.width).saturating_sub(4);
    let rows: Vec<[String; 6]> = actions
        .iter()
        .map(|a| {
            let project = a
                .project_title
                .clone()
                .or_else(|| model.aliases.get(&a.project_id).cloned())
                .unwrap_or_else(|| a.project_id.clone());
            let mut outcome = a.outcome.clone();
            if let Some(status) = &a.run_status {
                outcome.push_str(&format!("; run {status}"));
            }
            [
                style::clock(a.at, model.now, &model.tz),
                a.by.clone().unwrap_or_else(|| "unknown".into()),
                match a.action {
                    ActionKind::Launch => "launch".into(),
                    ActionKind::Cancel => "cancel".into(),
                },
                printable(&project),
                a.run_id
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |r| short_id(r).to_string()),
                printable(&outcome),
            ]
        })
        .collect();
    let header = ["WHEN", "WHO", "DID", "PROJECT", "RUN", "OUTCOME"];
    // Widths from what is shown, the last column taking what is left.
    let mut widths: Vec<usize> = header.iter().map(|h| style::width(h)).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(style::width(cell));
        }
    }
    widths[1] = widths[1].min(28);
    widths[3] = widths[3].min(28);
    let fixed: usize = widths[..5].iter().sum::<usize>() + 2 * 5 + 2;
    widths[5] = widths[5].min(width.saturating_sub(fixed)).max(8);
    let line = |cells: [&str; 6]| {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let cut = style::fit(c, *w);
                let pad = w.saturating_sub(style::width(&cut));
                format!("{cut}{}", " ".repeat(pad))
            })
            .collect();
        format!("  {}", text.join("  "))
    };
    let mut lines = vec![Line::raw(""), Line::styled(line(header), style::heading())];
    let room = usize::from(area.height).saturating_sub(6).max(1);
    if rows.is_empty() {
        lines.push(Line::styled(
            "  nothing launched or cancelled through hexdash here yet",
            style::dim(),
        ));
    }
    for r in rows.iter().take(room) {
        lines.push(Line::raw(line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]])));
    }
    if rows.len() > room {
        lines.push(Line::styled(
            format!(
                "  … and {} older (hexdash log lists them all)",
                rows.len() - room
            ),
            style::dim(),
        ));
    }
    lines.push(Line::from(vec![Span::styled(
        "  any key closes this · hexdash log --since 24h --csv for a review",
        style::dim(),
    )]));
    boxed(frame, area, lines, 60, "The operator's log", style::ACCENT);
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{render, runs_model};
    use crate::journal::{ActionKind, OperatorAction};
    use crate::tui::model::Overlay;

    #[test]
    fn the_log_lists_who_did_what_newest_first() {
        let mut m = runs_model();
        let at = m.now - jiff::SignedDuration::from_secs(90);
        let action = |kind, outcome: &str, status: Option<&str>| OperatorAction {
            seq: 1,
            at,
            action: kind,
            project_id: "p".into(),
            project_title: Some("Daily ETL".into()),
            project_alias: None,
            run_id: Some("3f2a9c1d-0000".into()),
            origin: Some("tui".into()),
            profile: Some("prod".into()),
            by: Some("maya@ops-1 (pid 4242)".into()),
            params: None,
            outcome: outcome.into(),
            run_status: status.map(str::to_string),
        };
        m.overlay = Some(Overlay::Log(vec![
            action(ActionKind::Cancel, "confirmed: KILLED", Some("KILLED")),
            action(ActionKind::Launch, "launched", Some("KILLED")),
        ]));
        let t = render(&m, 120, 16);
        let text = t.backend().to_string();
        assert!(text.contains("maya@ops-1 (pid 4242)"), "{text}");
        let cancel = text.find(" cancel ").unwrap();
        let launch = text.find(" launch ").unwrap();
        assert!(cancel < launch, "newest first: {text}");
        insta::assert_snapshot!(t.backend());
    }
}
