use std::collections::BTreeSet;

use jiff::Timestamp;
use ratatui::style::Modifier;

use super::*;
use crate::hex::RunStatus;
use crate::tui::pipeline_fixtures::{at, attempt_at as attempt};

fn now() -> Timestamp {
    at("12:05:00")
}

fn step(id: &str, deps: &[&str], status: StepStatus) -> StepView {
    StepView {
        id: id.into(),
        project: format!("{id} project"),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        status,
        attempts: Vec::new(),
        retries: 1,
    }
}

fn done(id: &str, deps: &[&str]) -> StepView {
    let mut s = step(id, deps, StepStatus::Succeeded);
    s.attempts = vec![attempt(
        1,
        "12:00:00",
        Some("12:01:00"),
        Some(RunStatus::Completed),
    )];
    s
}

fn text(g: &Graph) -> Vec<String> {
    g.lines.iter().map(|l| l.to_string()).collect()
}

fn grid(g: &Graph) -> Vec<Vec<char>> {
    text(g).iter().map(|l| l.chars().collect()).collect()
}

/// The `(x, middle row)` of each box's top-left corner, found by its title.
fn find_box(g: &[Vec<char>], id: &str) -> (usize, usize) {
    for (y, row) in g.iter().enumerate() {
        let line: String = row.iter().collect();
        for corner in ["┌ ", "┏ "] {
            if let Some(byte) = line.find(&format!("{corner}{id} ")) {
                return (line[..byte].chars().count(), y + 1);
            }
        }
    }
    panic!(
        "no box {id} in\n{}",
        g.iter()
            .map(|r| r.iter().collect::<String>() + "\n")
            .collect::<String>()
    );
}

fn wire_bits(c: char) -> u8 {
    use super::canvas::{E, N, S, W};
    match c {
        '─' => E | W,
        '│' => N | S,
        '┌' => E | S,
        '┐' => S | W,
        '└' => N | E,
        '┘' => N | W,
        '├' => N | E | S,
        '┤' => N | S | W,
        '┬' => E | S | W,
        '┴' => N | E | W,
        '┼' => N | E | S | W,
        _ => 0,
    }
}

/// The edges a reader follows on the picture: out of a box's right side, rightwards along
/// wires, up or down trunks and off them rightwards only, under crossings (an unbroken `│`),
/// to a `▶`. Edges are named by the boxes at both ends.
fn edges_drawn(g: &[Vec<char>], ids: &[&str]) -> BTreeSet<(String, String)> {
    use super::canvas::{E, N, S, W};
    let boxes: Vec<(&str, (usize, usize))> = ids.iter().map(|&id| (id, find_box(g, id))).collect();
    let cell = |x: usize, y: usize| g.get(y).and_then(|r| r.get(x)).copied().unwrap_or(' ');
    let mut found = BTreeSet::new();
    for &(from, (x, y)) in &boxes {
        let mut stack = vec![(x + BOX_W, y, E)];
        let mut seen = BTreeSet::new();
        while let Some((x, y, dir)) = stack.pop() {
            if !seen.insert((x, y, dir)) {
                continue;
            }
            let c = cell(x, y);
            if c == '▶' && dir == E {
                let to = boxes.iter().find(|(_, (bx, by))| *bx == x + 1 && *by == y);
                found.insert((from.to_string(), to.map_or("?", |t| t.0).to_string()));
                continue;
            }
            let bits = wire_bits(c);
            // Moving right into an unbroken `│`: the line passes under it.
            if bits == N | S && dir == E {
                stack.push((x + 1, y, E));
                continue;
            }
            let entered = match dir {
                E => W,
                N => S,
                _ => N,
            };
            if bits & entered == 0 {
                continue;
            }
            if bits & E != 0 {
                stack.push((x + 1, y, E));
            }
            if bits & N != 0 && dir != S && y > 0 {
                stack.push((x, y - 1, N));
            }
            if bits & S != 0 && dir != N {
                stack.push((x, y + 1, S));
            }
        }
    }
    found
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn fan_out() -> Vec<StepView> {
    let mut transform = step(
        "transform",
        &["extract"],
        StepStatus::Running { attempt: 1 },
    );
    transform.attempts = vec![attempt(1, "12:01:05", None, Some(RunStatus::Running))];
    let mut attribution = step(
        "attribution",
        &["extract"],
        StepStatus::RetryWaiting {
            due: at("12:05:40"),
        },
    );
    attribution.attempts = vec![attempt(
        1,
        "12:01:05",
        Some("12:02:00"),
        Some(RunStatus::Errored),
    )];
    let mut churn = done("churn", &["extract"]);
    churn.attempts.push(attempt(
        2,
        "12:01:30",
        Some("12:03:10"),
        Some(RunStatus::Completed),
    ));
    vec![
        done("extract", &[]),
        transform,
        attribution,
        churn,
        step("kpi", &["transform", "attribution"], StepStatus::Waiting),
    ]
}

#[test]
fn no_steps_draw_nothing() {
    let g = graph(&[], Some(0), now(), 0);
    assert!(g.lines.is_empty());
    assert_eq!(g.width, 0);
    assert_eq!(g.selected_x, None);
}

#[test]
fn a_sequence_reads_left_to_right() {
    let steps = vec![
        done("a", &[]),
        done("b", &["a"]),
        step("c", &["b"], StepStatus::Waiting),
    ];
    let g = graph(&steps, None, now(), 0);
    let lines = text(&g);
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() == usize::from(g.width))
    );
    let (a, b, c) = (
        find_box(&grid(&g), "a"),
        find_box(&grid(&g), "b"),
        find_box(&grid(&g), "c"),
    );
    assert!(a.0 < b.0 && b.0 < c.0, "{lines:#?}");
    assert_eq!((a.1, b.1, c.1), (1, 1, 1));
    assert_eq!(lines[1].matches('▶').count(), 2);
    assert!(lines[1].contains("├────▶│"), "{lines:#?}");
    assert!(lines[1].contains("✓ succeeded 1m00s"), "{lines:#?}");
    assert!(lines[1].contains("◌ waiting"), "{lines:#?}");
    assert_eq!(
        edges_drawn(&grid(&g), &["a", "b", "c"]),
        pairs(&[("a", "b"), ("b", "c")])
    );
}

#[test]
fn fan_out_and_fan_in_share_trunks() {
    let g = graph(&fan_out(), None, now(), 0);
    let cells = grid(&g);
    let ids = ["extract", "transform", "attribution", "churn", "kpi"];
    assert_eq!(
        edges_drawn(&cells, &ids),
        pairs(&[
            ("extract", "transform"),
            ("extract", "attribution"),
            ("extract", "churn"),
            ("transform", "kpi"),
            ("attribution", "kpi"),
        ])
    );
    let (ex, ey) = find_box(&cells, "extract");
    let (tx, ty) = find_box(&cells, "transform");
    let (_, ay) = find_box(&cells, "attribution");
    let (cx, cy) = find_box(&cells, "churn");
    let (kx, ky) = find_box(&cells, "kpi");
    // One trunk out of extract: ┌ to transform, ┼ through attribution's row, └ to churn.
    let trunk: String = (ty..=cy).map(|y| cells[y][ex + BOX_W + 2]).collect();
    assert_eq!(trunk, "┌│││┼│││└");
    assert_eq!(ey, ay);
    // One trunk into kpi from transform and attribution; churn's row stays empty.
    let trunk: String = (ty..=cy).map(|y| cells[y][tx + BOX_W + 2]).collect();
    assert_eq!(trunk, "┐│││┴    ");
    assert_eq!(ky, ay);
    let churn_out: String = cells[cy][cx + BOX_W - 1..kx].iter().collect();
    assert_eq!(churn_out.trim(), "│", "churn has no edge out");
    let into_kpi: Vec<usize> = (0..cells.len())
        .filter(|&y| cells[y][kx - 1] == '▶')
        .collect();
    assert_eq!(into_kpi, [ky]);
    // Details: running time, the retry countdown, the second attempt.
    let lines = text(&g);
    assert!(lines[ty].contains("⠋ running 3m55s"), "{lines:#?}");
    assert!(lines[ay].contains("↻ retry in 40s"), "{lines:#?}");
    assert!(lines[cy].contains("✓ #2 1m40s"), "{lines:#?}");
}

#[test]
fn fan_out_snapshot() {
    let g = graph(&fan_out(), Some(2), now(), 0);
    // Beside the view's other snapshots, not in a folder of this module's own.
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_snapshot!(text(&g).join("\n"));
    });
}

#[test]
fn a_long_edge_goes_around_through_a_dummy() {
    let steps = vec![done("a", &[]), done("b", &["a"]), done("c", &["b", "a"])];
    let g = graph(&steps, None, now(), 0);
    let cells = grid(&g);
    assert_eq!(
        edges_drawn(&cells, &["a", "b", "c"]),
        pairs(&[("a", "b"), ("b", "c"), ("a", "c")])
    );
    let (bx, by) = find_box(&cells, "b");
    // Boxes are whole: nothing drawn over b.
    let top: String = cells[by - 1][bx..bx + BOX_W].iter().collect();
    assert_eq!(top, format!("┌ b {}┐", "─".repeat(BOX_W - 5)));
    let bottom: String = cells[by + 1][bx..bx + BOX_W].iter().collect();
    assert_eq!(bottom, format!("└{}┘", "─".repeat(BOX_W - 2)));
    // The dummy slot below b is a plain line through the column.
    let dummy: String = cells[by + SLOT_H][bx..bx + BOX_W].iter().collect();
    assert_eq!(dummy, "─".repeat(BOX_W));
    // b and the dummy share one trunk into c: two arrows in all, none into the dummy.
    let lines = text(&g);
    assert_eq!(lines.concat().matches('▶').count(), 2, "{lines:#?}");
}

#[test]
fn the_selected_box_is_heavy_and_bold() {
    let g = graph(&fan_out(), Some(3), now(), 0);
    let cells = grid(&g);
    let (cx, cy) = find_box(&cells, "churn");
    let (start, end) = g.selected_x.unwrap();
    assert_eq!((usize::from(start), usize::from(end)), (cx, cx + BOX_W));
    let top: String = cells[cy - 1][cx..cx + BOX_W].iter().collect();
    assert!(top.starts_with("┏ churn ━") && top.ends_with("━┓"), "{top}");
    assert_eq!(cells[cy][cx], '┃');
    assert_eq!(cells[cy + 1][cx + BOX_W - 1], '┛');
    let bold = g.lines[cy - 1]
        .spans
        .iter()
        .any(|s| s.content.contains("churn") && s.style.add_modifier.contains(Modifier::BOLD));
    assert!(bold);
    // Other boxes stay light.
    let (ex, ey) = find_box(&cells, "extract");
    assert_eq!(cells[ey - 1][ex], '┌');
    // Runs of a style are merged: a line holds a handful of spans, not one per cell.
    assert!(g.lines.iter().all(|l| l.spans.len() < 20));
}

#[test]
fn long_ids_are_cut_with_an_ellipsis() {
    let steps = vec![done("a_very_long_step_identifier", &[])];
    let g = graph(&steps, Some(0), now(), 0);
    let lines = text(&g);
    assert_eq!(lines[0], "┏ a_very_long_step… ━┓");
    assert_eq!(usize::from(g.width), BOX_W);
}

/// Edges that cross like an X, and a source whose straight line to its neighbour would
/// also carry another trunk: the drawing must still show exactly the real edges.
#[test]
fn crossing_edges_show_only_real_edges() {
    let steps = vec![
        done("s1", &[]),
        done("s2", &[]),
        done("s3", &[]),
        done("t1", &["s2"]),
        done("t2", &["s1", "s3"]),
        done("t3", &["s3"]),
    ];
    let g = graph(&steps, None, now(), 0);
    let cells = grid(&g);
    assert_eq!(
        edges_drawn(&cells, &["s1", "s2", "s3", "t1", "t2", "t3"]),
        pairs(&[("s2", "t1"), ("s1", "t2"), ("s3", "t2"), ("s3", "t3")]),
        "\n{}",
        text(&g).join("\n")
    );
}

/// a feeds x and y, each fed by another source too: one trunk per target with a's wire
/// passing both would read as b→y and c→x. a fans out on a trunk of its own instead.
#[test]
fn a_source_shared_by_two_fan_ins_gets_its_own_fan_out() {
    let steps = vec![
        done("a", &[]),
        done("b", &[]),
        done("c", &[]),
        done("x", &["a", "b"]),
        done("y", &["a", "c"]),
    ];
    let g = graph(&steps, None, now(), 0);
    assert_eq!(
        edges_drawn(&grid(&g), &["a", "b", "c", "x", "y"]),
        pairs(&[("a", "x"), ("b", "x"), ("a", "y"), ("c", "y")]),
        "\n{}",
        text(&g).join("\n")
    );
}

#[test]
fn bad_dependencies_are_ignored() {
    let steps = vec![done("a", &["a", "ghost", "b"]), done("b", &["a", "a"])];
    let g = graph(&steps, None, now(), 0);
    assert_eq!(edges_drawn(&grid(&g), &["a", "b"]), pairs(&[("a", "b")]));
}

/// Random DAGs, fixed seeds: whatever the shape, the picture shows exactly the real edges
/// (through dummies too), and each line spans the full width.
#[test]
fn random_pipelines_draw_exactly_their_edges() {
    for seed in 0..300 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let n = rng.usize(2..16);
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let mut steps = Vec::new();
        let mut real = BTreeSet::new();
        for i in 0..n {
            let mut deps = Vec::new();
            for id in ids.iter().take(i) {
                // About two dependencies a step, from anywhere upstream.
                if rng.f64() < 2.0 / (i as f64 + 1.0) {
                    deps.push(id.as_str());
                    real.insert((id.clone(), ids[i].clone()));
                }
            }
            steps.push(done(&ids[i], &deps));
        }
        let g = graph(&steps, None, now(), 0);
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(
            edges_drawn(&grid(&g), &names),
            real,
            "seed {seed}\n{}",
            text(&g).join("\n")
        );
        assert!(g.lines.iter().all(|l| l.width() == usize::from(g.width)));
    }
}
