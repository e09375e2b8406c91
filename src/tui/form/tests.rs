//! The launch form's editing rules, validation and prefill, without a screen.

use super::*;
use serde_json::json;

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn today() -> Date {
    Date::constant(2026, 11, 28)
}

fn specs() -> Vec<ParamSpec> {
    let mut date = ParamSpec::new("run_date", ParamKind::Date);
    date.required = true;
    let mut schema = ParamSpec::new("schema", ParamKind::Dropdown);
    schema.options = vec!["staging".into(), "prod".into()];
    let mut sources = ParamSpec::new("sources", ParamKind::Multiselect);
    sources.options = vec!["shop".into(), "erp".into(), "crm".into()];
    let mut full = ParamSpec::new("full_refresh", ParamKind::Checkbox);
    full.default = Some(json!(false));
    vec![
        date,
        ParamSpec::new("rows", ParamKind::Number),
        schema,
        sources,
        full,
    ]
}

fn type_into(form: &mut Form, text: &str) {
    for c in text.chars() {
        assert!(form.key(&key(c), today()));
    }
}

#[test]
fn typed_fields_build_typed_values() {
    let mut f = Form::new("p", None, &specs(), None, None);
    type_into(&mut f, "y"); // yesterday
    f.next();
    type_into(&mut f, "12");
    f.next();
    f.key(&code(KeyCode::Right), today()); // prod
    f.next();
    f.key(&key(' '), today()); // shop
    f.key(&code(KeyCode::Right), today());
    f.key(&code(KeyCode::Right), today());
    f.key(&key(' '), today()); // crm
    f.next();
    f.key(&key(' '), today()); // full_refresh on
    let req = f.validate(Origin::Tui).unwrap();
    assert_eq!(
        serde_json::to_value(&req.params).unwrap(),
        json!({"run_date": "2026-11-27", "rows": 12, "schema": "prod",
               "sources": ["shop", "crm"], "full_refresh": true})
    );
    assert_eq!(req.options.use_cached_sql_results, None);
}

#[test]
fn bad_values_are_marked_and_nothing_is_built() {
    let mut f = Form::new("p", None, &specs(), None, None);
    // run_date is required and empty; rows is not a number.
    f.next();
    type_into(&mut f, "ten");
    assert!(f.validate(Origin::Tui).is_none());
    assert!(f.fields[0].error.as_deref().unwrap().contains("required"));
    assert!(
        f.fields[1]
            .error
            .as_deref()
            .unwrap()
            .contains("must be a number")
    );
    assert!(f.error.is_some());
    // Fixing a field clears its mark as soon as it is edited.
    f.key(&code(KeyCode::Backspace), today());
    assert!(f.fields[1].error.is_none());
}

#[test]
fn date_shortcuts_and_steps() {
    let mut f = Form::new("p", None, &specs(), None, None);
    type_into(&mut f, "t");
    assert_eq!(f.fields[0].text.value(), "2026-11-28");
    type_into(&mut f, "+");
    assert_eq!(f.fields[0].text.value(), "2026-11-29");
    type_into(&mut f, "--");
    assert_eq!(f.fields[0].text.value(), "2026-11-27");
}

#[test]
fn typed_fields_take_the_text_keys_and_other_kinds_keep_theirs() {
    let alt_b = KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT);
    let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
    let mut f = Form::new("p", None, &specs(), None, None);
    type_into(&mut f, "y"); // yesterday, kept relative: "2026-11-27"
    assert!(f.types(&code(KeyCode::Left)) && f.types(&alt_b) && f.types(&ctrl_w));
    assert!(f.key(&code(KeyCode::Left), today()));
    // alt-b is a word back, not b's month start.
    assert!(f.key(&alt_b, today()));
    assert_eq!(f.fields[0].text.cursor(), 8, "before 27");
    assert_eq!(
        f.fields[0].relative,
        Some(RelDate::Days(-1)),
        "moving the cursor changes no date"
    );
    assert!(f.key(&ctrl_w, today()));
    assert_eq!(f.fields[0].text.value(), "2026-27");
    assert_eq!(f.fields[0].relative, None, "an edited date is typed");
    // A dropdown's left and right still choose; they are not text there.
    f.next();
    f.next();
    assert!(!f.types(&code(KeyCode::Left)) && !f.types(&ctrl_w));
    assert!(f.key(&code(KeyCode::Left), today()));
    assert_eq!(f.fields[2].pointer, 1, "staging, back round to prod");
    assert!(!f.key(&ctrl_w, today()));
}

#[test]
fn prefills_from_the_last_launch_then_defaults() {
    let last = IndexMap::from([
        ("run_date".to_string(), json!("2026-01-31")),
        ("sources".to_string(), json!(["erp"])),
    ]);
    let options = LaunchOptions {
        timeout_secs: Some(600),
        kill_on_timeout: true,
        use_cached_sql_results: Some(false),
        ..LaunchOptions::default()
    };
    let f = Form::new("p", None, &specs(), Some(&last), Some(&options));
    assert_eq!(f.fields[0].text.value(), "2026-01-31");
    assert_eq!(f.fields[3].chosen, BTreeSet::from([1]));
    assert!(!f.fields[4].checked, "the declared default");
    assert_eq!(f.timeout.value(), "600s");
    assert!(f.kill_on_timeout && !f.use_cached_sql);
}

#[test]
fn free_rows_for_undeclared_projects() {
    let last = IndexMap::from([("n".to_string(), json!(3))]);
    let mut f = Form::new("p", None, &[], Some(&last), None);
    assert!(f.free);
    assert_eq!(f.fields.len(), 2, "the last row is empty, to add one");
    f.next();
    type_into(&mut f, "region=eu");
    assert_eq!(f.fields.len(), 3, "a new empty row appears");
    let req = f.validate(Origin::Tui).unwrap();
    assert_eq!(
        serde_json::to_value(&req.params).unwrap(),
        json!({"n": 3, "region": "eu"})
    );
    f.focus = 2;
    type_into(&mut f, "oops");
    assert!(f.validate(Origin::Tui).is_none());
    assert!(f.fields[2].error.as_deref().unwrap().contains("name=value"));
}

#[test]
fn kill_on_timeout_needs_a_timeout() {
    let mut f = Form::new("p", None, &[], None, None);
    f.kill_on_timeout = true;
    assert!(f.validate(Origin::Tui).is_none());
    assert!(f.timeout_error.is_some());
    f.timeout = "90s".into();
    let req = f.validate(Origin::Tui).unwrap();
    assert_eq!(req.options.timeout_secs, Some(90));
}

/// Whatever history holds, the form opens in a state `validate` accepts once the required
/// fields without a value are filled: prefill never brings in something the form refuses.
fn accepted_once_required_are_filled(f: &mut Form) -> LaunchRequest {
    for field in &mut f.fields {
        if field.spec.required && field.text.value().trim().is_empty() && !field.free {
            field.text.set("2026-11-27");
        }
    }
    let request = f.validate(Origin::Tui);
    let errors: Vec<_> = f.fields.iter().filter_map(|x| x.error.clone()).collect();
    request.unwrap_or_else(|| {
        panic!(
            "refused as prefilled: {:?} {:?} {errors:?}",
            f.error, f.timeout_error
        )
    })
}

#[test]
fn kill_on_timeout_without_a_timeout_is_not_prefilled() {
    // What a pipeline step without a timeout journals.
    let options = LaunchOptions {
        kill_on_timeout: true,
        timeout_secs: None,
        ..LaunchOptions::default()
    };
    let mut f = Form::new("p", None, &[], None, Some(&options));
    assert!(!f.kill_on_timeout);
    let req = accepted_once_required_are_filled(&mut f);
    assert_eq!(req.options.timeout_secs, None);
    assert!(!req.options.kill_on_timeout);
    // With a timeout it is kept.
    let options = LaunchOptions {
        timeout_secs: Some(90),
        ..options
    };
    let f = Form::new("p", None, &[], None, Some(&options));
    assert!(f.kill_on_timeout);
    assert_eq!(f.timeout.value(), "90s");
}

#[test]
fn last_values_that_no_longer_fit_the_declared_parameters_fall_back_to_the_default() {
    let mut specs = specs();
    specs[1].default = Some(json!(100));
    let last = IndexMap::from([
        ("run_date".to_string(), json!("not a date")),
        ("rows".to_string(), json!("ten")),
        // An option since removed from the dropdown and from the multiselect.
        ("schema".to_string(), json!("sandbox")),
        ("sources".to_string(), json!(["shop", "legacy"])),
        ("full_refresh".to_string(), json!("yes please")),
    ]);
    let mut f = Form::new("p", None, &specs, Some(&last), None);
    assert_eq!(
        f.fields[0].text.value(),
        "",
        "the required date is left to fill"
    );
    assert_eq!(f.fields[1].text.value(), "100", "the declared default");
    assert_eq!(f.fields[2].pointer, 0);
    assert!(f.fields[3].chosen.is_empty());
    assert!(!f.fields[4].checked);
    // Each value not taken is named, so nothing changes silently.
    for name in ["run_date", "rows", "schema", "sources", "full_refresh"] {
        assert!(
            f.prefill_notes.iter().any(|n| n.contains(name)),
            "{name}: {:?}",
            f.prefill_notes
        );
    }
    let req = accepted_once_required_are_filled(&mut f);
    assert_eq!(req.params["rows"], json!(100));
    // Values that fit are taken as they were, with no note.
    let fits = IndexMap::from([
        ("run_date".to_string(), json!("2026-01-31")),
        ("rows".to_string(), json!(12)),
        ("schema".to_string(), json!("prod")),
    ]);
    let f = Form::new("p", None, &specs, Some(&fits), None);
    assert!(f.prefill_notes.is_empty(), "{:?}", f.prefill_notes);
    assert_eq!(f.fields[2].pointer, 1);
}

#[test]
fn free_rows_are_prefilled_only_with_names_the_form_accepts() {
    let last = IndexMap::from([
        ("n".to_string(), json!(3)),
        (String::new(), json!("no name")),
        ("a=b".to_string(), json!("renamed by the =")),
        (" n".to_string(), json!(4)),
    ]);
    let mut f = Form::new("p", None, &[], Some(&last), None);
    let req = accepted_once_required_are_filled(&mut f);
    assert_eq!(
        serde_json::to_value(&req.params).unwrap(),
        json!({"n": 3}),
        "{:?}",
        f.prefill_notes
    );
    assert_eq!(f.prefill_notes.len(), 3, "{:?}", f.prefill_notes);
}

#[test]
fn a_422_is_shown_at_the_fields_it_names() {
    let mut f = Form::new("p", None, &specs(), None, None);
    f.focus = 4;
    f.apply_rejection(
        "Invalid input parameters",
        &[InvalidParam {
            param_name: "rows".into(),
            param_value: Some("-1".into()),
            data_type: Some("NUMBER".into()),
            input_cell_type: None,
        }],
        &["ghost".into()],
    );
    assert!(f.fields[1].error.as_deref().unwrap().contains("-1"));
    assert_eq!(f.focus, 1, "the cursor goes to the first marked field");
    assert!(f.error.as_deref().unwrap().contains("ghost"));
}
