//! The runs screen's marks and what acts on them: `space` marks the run under the cursor (and
//! moves on, so `space space space` marks three), `v` marks from the last marked run to the
//! cursor, `*` marks every run shown (again: unmarks them). With runs marked, `x`, `r` and `p`
//! act on all of them: cancel and rerun first open a preview of what each run will get (see
//! [`crate::tui::bulk`]), default no; pin toggles at once. The answers are gathered per run and
//! summed up when the last arrives. Also the sort keys, which reorder the same list.

use super::inform;
use super::screens::{refused_read_only, relaunch_request, title_of};
use crate::engine::RunKey;
use crate::tui::action::Action;
use crate::tui::bulk::{BulkAction, BulkItem, BulkPlan, BulkProgress, Outcome, Will};
use crate::tui::model::{Confirm, Level, Model, Overlay, Screen};
use crate::tui::msg::Effect;
use crate::tui::view::style;

/// The runs screen's mark, sort and bulk keys; `None` when the action is not one of them here.
pub(super) fn on_action(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    if model.screen != Screen::Runs {
        return None;
    }
    match action {
        Action::Sort | Action::SortReverse => {
            let sort = model.runs.sort;
            model.runs.sort = if action == Action::Sort {
                sort.next()
            } else {
                sort.reverse()
            };
            // The cursor keeps its run (found by id on the next settle), wherever it moved.
            let text = model.runs.sort.describe();
            inform(model, Level::Info, text);
            Some(Vec::new())
        }
        Action::Mark => Some(mark_one(model)),
        Action::MarkRange => Some(mark_range(model)),
        Action::MarkAll => Some(mark_all(model)),
        Action::CancelRun if has_marks(model) => Some(ask(model, BulkAction::Cancel)),
        Action::Launch if has_marks(model) => Some(ask(model, BulkAction::Rerun)),
        Action::Pin if has_marks(model) => Some(pin_marked(model)),
        _ => None,
    }
}

/// Whether any run shown is marked (marks the filter hides do not count).
fn has_marks(model: &Model) -> bool {
    !model.runs.marked.is_empty() && !marked_shown(model).is_empty()
}

/// The marked runs shown, in the order drawn.
fn marked_shown(model: &Model) -> Vec<RunKey> {
    model
        .visible_runs()
        .into_iter()
        .filter(|r| model.runs.marked.contains(&r.view.key))
        .map(|r| r.view.key.clone())
        .collect()
}

fn mark_one(model: &mut Model) -> Vec<Effect> {
    let Some(key) = model.selected_run().map(|r| r.view.key.clone()) else {
        inform(model, Level::Warning, "no run selected".into());
        return Vec::new();
    };
    if !model.runs.marked.remove(&key) {
        model.runs.marked.insert(key.clone());
    }
    model.runs.mark_anchor = Some(key);
    say_marked(model);
    super::selection::move_by(model, 1);
    Vec::new()
}

fn mark_range(model: &mut Model) -> Vec<Effect> {
    let Some(to) = model.run_cursor() else {
        inform(model, Level::Warning, "no run selected".into());
        return Vec::new();
    };
    let keys: Vec<RunKey> = {
        let shown = model.shown_runs();
        let from = model
            .runs
            .mark_anchor
            .as_ref()
            .and_then(|k| shown.position_of(&model.runs.rows, k))
            .unwrap_or(to);
        (from.min(to)..=from.max(to))
            .filter_map(|at| model.run_at(&shown, at))
            .map(|r| r.view.key.clone())
            .collect()
    };
    // The next `v` marks on from here.
    model.runs.mark_anchor = model.selected_run().map(|r| r.view.key.clone());
    model.runs.marked.extend(keys);
    say_marked(model);
    Vec::new()
}

fn mark_all(model: &mut Model) -> Vec<Effect> {
    let shown: Vec<RunKey> = model
        .visible_runs()
        .into_iter()
        .map(|r| r.view.key.clone())
        .collect();
    if shown.is_empty() {
        inform(model, Level::Warning, "no run shown to mark".into());
        return Vec::new();
    }
    if shown.iter().all(|k| model.runs.marked.contains(k)) {
        for key in &shown {
            model.runs.marked.remove(key);
        }
    } else {
        model.runs.marked.extend(shown);
    }
    say_marked(model);
    Vec::new()
}

/// `3 runs marked: x cancels, r reruns, p pins them (each asks first); esc unmarks`.
fn say_marked(model: &mut Model) {
    let n = marked_shown(model).len();
    let text = match n {
        0 => "no run marked".to_string(),
        _ => format!(
            "{} marked: x cancels, r reruns, p pins them (cancel and rerun ask first); esc \
             unmarks",
            style::plural(n, "run")
        ),
    };
    inform(model, Level::Info, text);
}

/// Esc with runs marked: unmarks them all. True when there were marks.
pub(super) fn clear_marks(model: &mut Model) -> bool {
    if model.screen != Screen::Runs || model.runs.marked.is_empty() {
        return false;
    }
    let n = model.runs.marked.len();
    model.runs.marked.clear();
    model.runs.mark_anchor = None;
    inform(
        model,
        Level::Info,
        format!("unmarked {}", style::plural(n, "run")),
    );
    true
}

/// Opens the preview of a bulk cancel or rerun of the marked runs shown.
fn ask(model: &mut Model, action: BulkAction) -> Vec<Effect> {
    let what = match action {
        BulkAction::Cancel => "cancelling",
        BulkAction::Rerun => "launching",
    };
    if refused_read_only(model, what) {
        return Vec::new();
    }
    if let Some(under_way) = &model.runs.bulk {
        let text = format!(
            "a bulk {} is under way ({}): its summary first",
            under_way.action.verb(),
            under_way.counts()
        );
        inform(model, Level::Warning, text);
        return Vec::new();
    }
    let keys = marked_shown(model);
    let hidden = model.runs.marked.len().saturating_sub(keys.len());
    let items: Vec<BulkItem> = keys
        .iter()
        .filter_map(|k| model.runs.rows.get(k))
        .map(|row| {
            let will = match action {
                BulkAction::Cancel if row.view.is_active() && row.followed => Will::Cancel,
                BulkAction::Cancel if row.view.is_active() => {
                    Will::Skip("not followed (Hex stopped answering about it)".into())
                }
                BulkAction::Cancel => Will::Skip("already ended".into()),
                BulkAction::Rerun => match relaunch_request(row) {
                    Ok(request) => Will::Relaunch(Box::new(request)),
                    Err(by) => Will::Skip(format!("parameters unknown (started by {by})")),
                },
            };
            BulkItem {
                key: row.view.key.clone(),
                project: title_of(row),
                trigger: match style::trigger_label(row.view.origin.as_ref()) {
                    dash if dash == "-" => "unknown trigger".to_string(),
                    label => label,
                },
                status: row.view.status.clone(),
                will,
            }
        })
        .collect();
    let plan = BulkPlan {
        action,
        items,
        hidden,
    };
    if plan.acting() == 0 {
        let why = match action {
            BulkAction::Cancel => "none of the marked runs is active",
            BulkAction::Rerun => "no marked run has known parameters to launch again with",
        };
        inform(
            model,
            Level::Warning,
            format!("nothing to {}: {why}", action.verb()),
        );
        return Vec::new();
    }
    model.overlay = Some(Overlay::Confirm(Confirm::Bulk(Box::new(plan))));
    Vec::new()
}

/// `y` on the preview: sends what it showed, to the runs still fit for it.
pub(super) fn confirmed(model: &mut Model, plan: BulkPlan) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut runs = Vec::new();
    // Only the runs the preview showed are unmarked: marks the filter hid stay, as it said.
    for item in &plan.items {
        model.runs.marked.remove(&item.key);
    }
    for item in plan.items {
        let outcome = match item.will {
            Will::Skip(why) => Outcome::Skipped(why),
            Will::Cancel => {
                // Frozen at the preview; refused for a run that ended while it was open.
                let active = model
                    .runs
                    .rows
                    .get(&item.key)
                    .is_some_and(|r| r.view.is_active() && r.followed);
                if active {
                    model.runs.cancelled_here.insert(item.key.clone());
                    model.runs.cancel_failed.remove(&item.key);
                    effects.push(Effect::Cancel(item.key.clone()));
                    Outcome::Waiting
                } else {
                    Outcome::AlreadyEnded
                }
            }
            Will::Relaunch(request) => {
                effects.push(Effect::BulkLaunch {
                    item: runs.len(),
                    request: *request,
                });
                Outcome::Waiting
            }
        };
        runs.push((item.key, item.project, outcome));
    }
    model.runs.mark_anchor = None;
    let progress = BulkProgress {
        action: plan.action,
        runs,
    };
    inform(
        model,
        Level::Info,
        format!(
            "bulk {}: {} sent…",
            plan.action.verb(),
            style::plural(effects.len(), "request")
        ),
    );
    model.runs.bulk = Some(progress);
    finish_if_done(model);
    effects
}

/// A cancel's answer about a run of the bulk cancel under way, if there is one and it is
/// waiting for it. True when it was part of it (the caller need not say more).
pub(super) fn answered(model: &mut Model, key: &RunKey, outcome: Outcome) -> bool {
    let recorded = model
        .runs
        .bulk
        .as_mut()
        .is_some_and(|b| b.record(key, outcome));
    if recorded {
        finish_if_done(model);
    }
    recorded
}

/// The answer to the launch of item `item` of the bulk rerun under way.
pub(super) fn launch_answered(
    model: &mut Model,
    item: usize,
    result: Result<crate::engine::Launched, crate::tui::msg::LaunchFailure>,
) {
    use crate::tui::msg::LaunchFailure;
    let outcome = match result {
        Ok(launched) => {
            model.session_runs.insert(launched.key.clone());
            Outcome::Launched(launched.key.run_id)
        }
        Err(LaunchFailure::Rejected { message, .. } | LaunchFailure::Other(message)) => {
            Outcome::Failed(message)
        }
    };
    let recorded = model
        .runs
        .bulk
        .as_mut()
        .is_some_and(|b| b.action == BulkAction::Rerun && b.record_item(item, outcome));
    if recorded {
        finish_if_done(model);
    }
}

/// When every answer is in: the summary, and the counts on the status line.
fn finish_if_done(model: &mut Model) {
    let Some(progress) = model.runs.bulk.take_if(|b| b.done()) else {
        if let Some(b) = &model.runs.bulk {
            let text = format!("bulk {}: {}", b.action.verb(), b.counts());
            inform(model, Level::Info, text);
        }
        return;
    };
    let failed = progress
        .runs
        .iter()
        .any(|(_, _, o)| matches!(o, Outcome::Failed(_)));
    let level = if failed { Level::Error } else { Level::Info };
    let text = format!(
        "bulk {} done: {}",
        progress.action.verb(),
        progress.counts()
    );
    inform(model, level, text);
    // Over whatever is on screen, unless a question is open there: it stays on the status line.
    if model.overlay.is_none() {
        model.overlay = Some(Overlay::BulkReport(progress));
    }
}

/// `p` with runs marked: pins them all, or unpins them when all are pinned already.
fn pin_marked(model: &mut Model) -> Vec<Effect> {
    let keys = marked_shown(model);
    let all_pinned = keys.iter().all(|k| model.pinned.contains(k));
    for key in &keys {
        if all_pinned {
            model.pinned.remove(key);
        } else {
            model.pinned.insert(key.clone());
        }
    }
    let n = style::plural(keys.len(), "run");
    let text = if all_pinned {
        format!("unpinned {n}")
    } else {
        format!("pinned {n}: a bell when each ends")
    };
    inform(model, Level::Info, text);
    Vec::new()
}
