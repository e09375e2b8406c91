//! Fault injection: which operations fail, how, and how often.
//!
//! Owns the fault model (the same shape in the scenario's `[faults]` table and in the JSON body of
//! `POST /_emulator/faults`) and the seeded draw that decides, per request, what goes wrong. It
//! does not apply the faults: the request pipeline in `routes` does, at the points documented on
//! [`FaultSpec`]. It must not touch runs or limits.

use serde::{Deserialize, Serialize};

use crate::hex::Operation;

/// What may go wrong with one operation. Rates are probabilities from 0.0 to 1.0.
///
/// Order inside one request: `latency_ms` is waited first; then `drop_before_rate` (the
/// connection is closed with no answer and the operation does **not** take effect); then
/// `error_rate` (an error status from `error_statuses`, nothing takes effect); then the operation
/// runs; then `drop_after_rate` (the operation **did** take effect — e.g. the run exists — but the
/// connection is closed with no answer, the "outcome unknown" case a client must reconcile); then
/// `malformed_rate` (a 2xx answer whose JSON body is cut short; the operation took effect).
/// Malformed applies only to answers that carry a JSON body, so never to CancelRun's 204.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default = "default_statuses")]
    pub error_statuses: Vec<u16>,
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub drop_before_rate: f64,
    #[serde(default)]
    pub drop_after_rate: f64,
    #[serde(default)]
    pub malformed_rate: f64,
}

fn default_statuses() -> Vec<u16> {
    vec![500, 502, 503]
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec {
            error_rate: 0.0,
            error_statuses: default_statuses(),
            latency_ms: 0,
            drop_before_rate: 0.0,
            drop_after_rate: 0.0,
            malformed_rate: 0.0,
        }
    }
}

/// Faults per operation. An operation's own entry replaces `default` as a whole (fields are not
/// merged), so `{"RunProject": {"error_rate": 1.0}}` makes only launches fail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<FaultSpec>,
    #[serde(
        rename = "ListProjects",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub list_projects: Option<FaultSpec>,
    #[serde(
        rename = "GetProject",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub get_project: Option<FaultSpec>,
    #[serde(
        rename = "RunProject",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub run_project: Option<FaultSpec>,
    #[serde(
        rename = "GetRunStatus",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub get_run_status: Option<FaultSpec>,
    #[serde(
        rename = "GetProjectRuns",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub get_project_runs: Option<FaultSpec>,
    #[serde(rename = "CancelRun", default, skip_serializing_if = "Option::is_none")]
    pub cancel_run: Option<FaultSpec>,
}

impl Faults {
    /// The spec that applies to `op`, if any.
    pub fn for_op(&self, op: Operation) -> Option<&FaultSpec> {
        let own = match op {
            Operation::ListProjects => &self.list_projects,
            Operation::GetProject => &self.get_project,
            Operation::RunProject => &self.run_project,
            Operation::GetRunStatus => &self.get_run_status,
            Operation::GetProjectRuns => &self.get_project_runs,
            Operation::CancelRun => &self.cancel_run,
        };
        own.as_ref().or(self.default.as_ref())
    }

    fn entries(&self) -> impl Iterator<Item = (&'static str, &FaultSpec)> {
        [
            ("default", &self.default),
            ("ListProjects", &self.list_projects),
            ("GetProject", &self.get_project),
            ("RunProject", &self.run_project),
            ("GetRunStatus", &self.get_run_status),
            ("GetProjectRuns", &self.get_project_runs),
            ("CancelRun", &self.cancel_run),
        ]
        .into_iter()
        .filter_map(|(name, spec)| spec.as_ref().map(|s| (name, s)))
    }

    /// Checks rates and statuses; the message names the entry, the bad value and the fix.
    pub fn validate(&self) -> Result<(), String> {
        for (name, spec) in self.entries() {
            for (field, rate) in [
                ("error_rate", spec.error_rate),
                ("drop_before_rate", spec.drop_before_rate),
                ("drop_after_rate", spec.drop_after_rate),
                ("malformed_rate", spec.malformed_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!(
                        "faults.{name}.{field} = {rate} is not a probability; use a number from \
                         0.0 to 1.0"
                    ));
                }
            }
            if spec.error_rate > 0.0 && spec.error_statuses.is_empty() {
                return Err(format!(
                    "faults.{name}.error_statuses is empty but error_rate is {}; list statuses \
                     to draw from, e.g. [500, 502, 503]",
                    spec.error_rate
                ));
            }
            if let Some(bad) = spec
                .error_statuses
                .iter()
                .find(|s| !(400..=599).contains(*s))
            {
                return Err(format!(
                    "faults.{name}.error_statuses contains {bad}, which is not an error status; \
                     use 4xx or 5xx codes such as 500, 502, 503"
                ));
            }
        }
        Ok(())
    }
}

/// What the draw decided for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    pub latency_ms: u64,
    pub drop_before: bool,
    pub error_status: Option<u16>,
    pub drop_after: bool,
    pub malformed: bool,
}

impl FaultPlan {
    /// Draws every decision for one request up front, always consuming the same number of
    /// random numbers, so a given seed and request sequence give the same faults every time.
    pub fn draw(spec: Option<&FaultSpec>, rng: &mut fastrand::Rng) -> FaultPlan {
        let rolls = [rng.f64(), rng.f64(), rng.f64(), rng.f64()];
        let pick = rng.usize(..usize::MAX);
        let Some(spec) = spec else {
            return FaultPlan::default();
        };
        let error_status = if rolls[1] < spec.error_rate && !spec.error_statuses.is_empty() {
            spec.error_statuses
                .get(pick % spec.error_statuses.len())
                .copied()
        } else {
            None
        };
        FaultPlan {
            latency_ms: spec.latency_ms,
            drop_before: rolls[0] < spec.drop_before_rate,
            error_status,
            drop_after: rolls[2] < spec.drop_after_rate,
            malformed: rolls[3] < spec.malformed_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_entry_replaces_the_default() {
        let faults: Faults = serde_json::from_str(
            r#"{"default": {"latency_ms": 5}, "RunProject": {"error_rate": 1.0, "error_statuses": [502]}}"#,
        )
        .unwrap();
        assert_eq!(faults.for_op(Operation::GetProject).unwrap().latency_ms, 5);
        let run = faults.for_op(Operation::RunProject).unwrap();
        assert_eq!(run.latency_ms, 0);
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(FaultPlan::draw(Some(run), &mut rng).error_status, Some(502));
    }

    #[test]
    fn bad_rates_and_statuses_are_refused_with_the_fix() {
        let faults: Faults = serde_json::from_str(r#"{"CancelRun": {"error_rate": 2}}"#).unwrap();
        let err = faults.validate().unwrap_err();
        assert!(err.contains("faults.CancelRun.error_rate = 2"), "{err}");
        let faults: Faults =
            serde_json::from_str(r#"{"default": {"error_statuses": [200]}}"#).unwrap();
        assert!(faults.validate().unwrap_err().contains("contains 200"));
        assert!(serde_json::from_str::<Faults>(r#"{"RunProjects": {}}"#).is_err());
    }

    #[test]
    fn draws_are_deterministic_for_a_seed() {
        let spec = FaultSpec {
            error_rate: 0.5,
            ..FaultSpec::default()
        };
        let draws = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..50)
                .map(|_| FaultPlan::draw(Some(&spec), &mut rng).error_status)
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        let hits = draws(7).iter().filter(|s| s.is_some()).count();
        assert!((10..40).contains(&hits), "{hits}");
    }
}
