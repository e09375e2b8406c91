//! The Hex API client: one method per operation of HEX_API.md, with retries and the shared budget.
//!
//! One `reqwest::Client` per `Client` (cloning a `Client` shares it, and the budget). Retry policy
//! (HEX_API.md, DESIGN.md "Exactly-once launch"): reads and cancels retry connection errors,
//! timeouts, 5xx and 429 with capped, jittered backoff that honours `Retry-After`; RunProject is
//! retried only when Hex certainly created nothing (429, 503, connection never established), and
//! any other failure of the POST becomes [`Error::LaunchOutcomeUnknown`] for the caller to
//! reconcile. A 429 whose Retry-After is absurd (longer than [`MAX_PAUSE`]) pauses the budget for
//! the cap and is not retried: the person hears of it now. Redirects are never followed (nothing,
//! least of all a launch's POST, is re-sent anywhere by the HTTP layer), and no answer is read
//! past a size cap (`response`). The token is only ever put into the Authorization header.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::budget::{Budget, BudgetSnapshot, MAX_PAUSE, Priority};
use super::error::Error;
use super::response::{self, ReadError, Reply, decode};
use super::settings::{ClientSettings, check_base_url};
use super::types::{
    ListProjectsQuery, Operation, Project, ProjectRunsQuery, ProjectRunsResponse, ProjectsPage,
    RunProjectRequest, RunProjectResponse, RunStatusResponse,
};

/// Safety stop for ListProjects paging, in case a server keeps handing out cursors.
const MAX_PAGES: usize = 1000;
/// The most ListProjects bytes read for one listing of the workspace, over all its pages. 1,000
/// projects are about 1 MB; this leaves room for tens of thousands.
const MAX_LISTING_BYTES: usize = 32 << 20;

/// A Hex API client. Clones share the HTTP connection pool and the request budget.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
    priority: Priority,
    /// Whether `send` retries transient failures itself. The poll scheduler turns this off: it
    /// owns backoff and staleness for polls, and must hear of every failure at once.
    retries: bool,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    budget: Arc<Budget>,
    max_retries: u32,
    max_backoff: Duration,
    request_timeout: Duration,
}

impl Client {
    /// Builds a client. Fails on a base URL that is not https (or loopback http).
    pub fn new(settings: ClientSettings) -> Result<Client, Error> {
        let budget = Arc::new(Budget::new(settings.limits));
        Self::with_budget(settings, budget)
    }

    /// Builds a client that shares an existing budget (e.g. several clients for one token).
    pub fn with_budget(settings: ClientSettings, budget: Arc<Budget>) -> Result<Client, Error> {
        let base = check_base_url(settings.base_url.as_str()).map_err(Error::Setup)?;
        // reqwest is built without a bundled crypto provider (no C build for aws-lc); ring is
        // installed once here. A second install fails harmlessly when one is already set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("hexdash/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            // Never follow a redirect, not even to the same origin: reqwest re-sends a 307/308's
            // body, so following could launch a run twice or at another server, and a redirect
            // elsewhere would carry the request there. Hex's API does not redirect; a 3xx is
            // turned into an error naming its target (`response::read`).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Setup(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: settings.token,
                budget,
                max_retries: settings.max_retries,
                max_backoff: settings.max_backoff,
                request_timeout: settings.request_timeout,
            }),
            priority: Priority::Action,
            retries: true,
        })
    }

    /// The same client, spending the budget as background polling (leaves the reserve free) and
    /// sending each poll once: failures go straight back to the poll scheduler.
    pub fn for_polling(&self) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            priority: Priority::Poll,
            retries: false,
        }
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    pub fn budget(&self) -> &Arc<Budget> {
        &self.inner.budget
    }

    pub fn budget_snapshot(&self) -> BudgetSnapshot {
        self.inner.budget.snapshot()
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// ListProjects: one page.
    pub async fn list_projects(&self, query: &ListProjectsQuery) -> Result<ProjectsPage, Error> {
        self.list_projects_sized(query).await.map(|(page, _)| page)
    }

    /// One page and the size of its body, so a listing can bound its total.
    async fn list_projects_sized(
        &self,
        query: &ListProjectsQuery,
    ) -> Result<(ProjectsPage, usize), Error> {
        let url = self.url(&["projects"]);
        let reply = self
            .send(Operation::ListProjects, self.priority, || {
                self.request(Method::GET, url.clone()).query(query)
            })
            .await?;
        let bytes = reply.body.len();
        decode(Operation::ListProjects, reply).map(|page| (page, bytes))
    }

    /// ListProjects, following `pagination.after` until the last page.
    pub async fn list_all_projects(&self) -> Result<Vec<Project>, Error> {
        let mut all = Vec::new();
        let mut query = ListProjectsQuery {
            limit: Some(100),
            ..ListProjectsQuery::default()
        };
        let mut read = 0usize;
        for pages in 1..=MAX_PAGES {
            let (page, bytes) = self.list_projects_sized(&query).await?;
            read = read.saturating_add(bytes);
            if read > MAX_LISTING_BYTES {
                return Err(Error::ListTooLarge {
                    pages,
                    limit: MAX_LISTING_BYTES,
                });
            }
            all.extend(page.values);
            match page.pagination.after {
                Some(after) if Some(&after) != query.after.as_ref() => query.after = Some(after),
                _ => return Ok(all),
            }
        }
        Ok(all)
    }

    /// GetProject.
    pub async fn get_project(&self, project_id: &str) -> Result<Project, Error> {
        let url = self.url(&["projects", project_id]);
        let reply = self
            .send(Operation::GetProject, self.priority, || {
                self.request(Method::GET, url.clone())
            })
            .await?;
        decode(Operation::GetProject, reply)
    }

    /// RunProject. Re-sent only when Hex certainly created nothing; any other failure after the
    /// request may have reached Hex is [`Error::LaunchOutcomeUnknown`].
    pub async fn run_project(
        &self,
        project_id: &str,
        body: &RunProjectRequest,
    ) -> Result<RunProjectResponse, Error> {
        let url = self.url(&["projects", project_id, "runs"]);
        let result = self
            .send(Operation::RunProject, Priority::Launch, || {
                self.request(Method::POST, url.clone()).json(body)
            })
            .await;
        let reply = match result {
            Ok(reply) => reply,
            Err(e) if e.nothing_was_created() || e.is_refusal() => return Err(e),
            Err(e) => {
                return Err(Error::LaunchOutcomeUnknown { cause: Box::new(e) });
            }
        };
        // A 201 whose body cannot be read still created a run: its outcome is unknown to us.
        decode(Operation::RunProject, reply)
            .map_err(|e| Error::LaunchOutcomeUnknown { cause: Box::new(e) })
    }

    /// GetRunStatus.
    pub async fn get_run_status(
        &self,
        project_id: &str,
        run_id: &str,
    ) -> Result<RunStatusResponse, Error> {
        let url = self.url(&["projects", project_id, "runs", run_id]);
        let reply = self
            .send(Operation::GetRunStatus, self.priority, || {
                self.request(Method::GET, url.clone())
            })
            .await?;
        decode(Operation::GetRunStatus, reply)
    }

    /// GetProjectRuns: one page (limit, offset, status filter).
    pub async fn get_project_runs(
        &self,
        project_id: &str,
        query: &ProjectRunsQuery,
    ) -> Result<ProjectRunsResponse, Error> {
        let url = self.url(&["projects", project_id, "runs"]);
        let reply = self
            .send(Operation::GetProjectRuns, self.priority, || {
                self.request(Method::GET, url.clone()).query(query)
            })
            .await?;
        decode(Operation::GetProjectRuns, reply)
    }

    /// CancelRun. Hex answers 204 with an empty body.
    pub async fn cancel_run(&self, project_id: &str, run_id: &str) -> Result<(), Error> {
        let url = self.url(&["projects", project_id, "runs", run_id]);
        self.send(Operation::CancelRun, Priority::Action, || {
            self.request(Method::DELETE, url.clone())
        })
        .await
        .map(|_| ())
    }

    fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.inner
            .http
            .request(method, url)
            .bearer_auth(self.inner.token.expose_secret())
    }

    /// Sends with the budget and the retry policy of `op`.
    async fn send(
        &self,
        op: Operation,
        priority: Priority,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, Error> {
        let mut attempt: u32 = 0;
        loop {
            let slot = self.inner.budget.acquire_slot(priority).await;
            let result = self.exchange(op, build()).await;
            // Hex counted the request when it arrived, at the latest now.
            self.inner
                .budget
                .answered(slot, tokio::time::Instant::now());
            let err = match result {
                Ok(reply) => return Ok(reply),
                Err(err) => err,
            };
            let retryable = if op == Operation::RunProject {
                err.nothing_was_created()
            } else {
                err.is_transient()
            };
            let pause = backoff(attempt, err.retry_after(), self.inner.max_backoff);
            if matches!(err, Error::RateLimited { .. }) {
                // Everyone sharing the token waits, not just this request (the budget caps it).
                self.inner.budget.pause(pause, tokio::time::Instant::now());
            }
            let absurd = err.asked_absurd_wait();
            if !retryable || absurd || !self.retries || attempt >= self.inner.max_retries {
                return Err(err);
            }
            tracing::debug!(%op, attempt, ?pause, error = %err, "retrying");
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// One HTTP exchange, classified.
    async fn exchange(&self, op: Operation, req: reqwest::RequestBuilder) -> Result<Reply, Error> {
        let started = std::time::Instant::now();
        let result = match req.send().await {
            Ok(response) => response::read(op, response).await.map_err(|e| match e {
                ReadError::Transport(e) => self.transport_error(op, &e),
                ReadError::Hex(e) => e,
            }),
            Err(e) => Err(self.transport_error(op, &e)),
        };
        // One line per request at debug level (`-v`): what an operator needs to see where the
        // budget goes. The URL is not logged (ids are in the caller's lines); the token never is.
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(reply) => tracing::debug!(%op, status = reply.status.as_u16(), ms, "answered"),
            Err(e) => tracing::debug!(%op, ms, error = %e, "failed"),
        }
        result
    }

    fn transport_error(&self, op: Operation, e: &reqwest::Error) -> Error {
        if e.is_connect() {
            return Error::Transport {
                op,
                detail: describe_reqwest(e),
                refused: true,
            };
        }
        if e.is_timeout() {
            return Error::Timeout {
                op,
                timeout: self.inner.request_timeout,
            };
        }
        Error::Transport {
            op,
            detail: describe_reqwest(e),
            refused: false,
        }
    }
}

/// The reqwest error chain as one line, without the URL's query (no secrets are ever in URLs,
/// but shorter is easier to read).
fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), url.path());
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// Capped exponential backoff with jitter; `Retry-After` wins when Hex sent one.
fn backoff(attempt: u32, retry_after: Option<Duration>, cap: Duration) -> Duration {
    if let Some(ra) = retry_after {
        // A little jitter so several hexdash processes do not return in the same millisecond.
        // Capped again here: this is the pause slept, whoever parsed the header.
        return ra
            .min(MAX_PAUSE)
            .saturating_add(Duration::from_millis(fastrand::u64(0..250)));
    }
    let base = Duration::from_millis(500).saturating_mul(1u32 << attempt.min(16));
    let capped = base.min(cap);
    // "Equal jitter": between half and all of the capped delay.
    let half = capped / 2;
    half + Duration::from_millis(fastrand::u64(
        0..=u64::try_from(half.as_millis()).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_jittered_and_honours_retry_after() {
        let cap = Duration::from_secs(30);
        for attempt in 0..20 {
            let d = backoff(attempt, None, cap);
            assert!(d <= cap, "{attempt}: {d:?}");
        }
        let first = backoff(0, None, cap);
        assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
        let ra = backoff(3, Some(Duration::from_secs(45)), cap);
        assert!(ra >= Duration::from_secs(45) && ra < Duration::from_secs(46));
        // Whatever asks for more (a caller that did not cap) gets the cap, not an overflow.
        let huge = backoff(0, Some(Duration::MAX), cap);
        assert!(huge >= MAX_PAUSE && huge < MAX_PAUSE + Duration::from_secs(1));
    }

    #[test]
    fn urls_keep_the_base_path_and_escape_ids() {
        let settings = ClientSettings::new(
            Url::parse("http://127.0.0.1:1/api/v1/").unwrap(),
            SecretString::from("t"),
        );
        let c = Client::new(settings).unwrap();
        assert_eq!(
            c.url(&["projects", "a/b", "runs"]).as_str(),
            "http://127.0.0.1:1/api/v1/projects/a%2Fb/runs"
        );
    }
}
