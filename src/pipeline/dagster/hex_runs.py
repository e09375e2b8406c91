class Hex(ConfigurableResource):
    """Hex's API for the ops, through dagster_hex: the URL and token come from hexdash's own
    environment variables (HEX_API_URL, with or without /api/v1, and HEX_API_TOKEN) by EnvVar,
    so Dagster shows where they come from but never the token."""

    api_url: str
    api_token: str

    def run(
        self,
        context,
        project_id,
        inputs,
        *,
        timeout=None,
        kill_on_timeout=True,
        update_published_results=None,
        use_cached_sql_results=None,
        continue_after=None,
    ):
        """Runs the project with dagster_hex's run_and_poll and returns Hex's run status object
        (runId, status, runUrl, endTime, ...) as the op's output. `continue_after` is (retries,
        delay) for a step with on_failure = "continue": its last failure becomes an output
        marked failed, so the ops after it still run."""
        runs = _HexRuns(
            self.api_token, _base_url(self.api_url), context.log, update_published_results
        )
        try:
            output = runs.run_and_poll(
                project_id,
                inputs or None,
                use_cached_sql=use_cached_sql_results is not False,
                kill_on_timeout=kill_on_timeout,
                poll_interval=POLL_SECONDS,
                poll_timeout=timeout,
            )
        except (DagsterExecutionInterruptedError, KeyboardInterrupt):
            # Dagster is terminating the run: cancel the op's Hex run rather than leave it going.
            runs.cancel_started()
            raise
        except Failure as failure:
            if continue_after is None:
                raise
            retries, delay = continue_after
            if context.retry_number < retries:
                raise RetryRequested(max_retries=retries, seconds_to_wait=delay) from failure
            context.log.error(
                f"failed after {retries + 1} attempt(s); the steps after it run all the same "
                f'(on_failure = "continue"): {failure.description}'
            )
            return {"failed": failure.description}
        return dict(output.status_response)


class _HexRuns(HexResource):
    """dagster_hex's client with three changes a pipeline needs: the launch is sent once (its
    retries could start a second run when an answer is lost), a cancel is one DELETE (its own
    repeats the request on Hex's empty 204 answer), and the run it started is remembered, so a
    terminated op can cancel it."""

    def __init__(self, token, base_url, log, update_published_results):
        super().__init__(api_key=token, base_url=base_url, log=log)
        self._token = token
        self._logger = log
        self._publish = update_published_results
        self.started = None

    def run_project(self, project_id, **kwargs):
        once = HexResource(
            api_key=self._token,
            base_url=self.api_base_url,
            log=self._logger,
            request_max_retries=0,
        )
        if self._publish is not None:
            kwargs["update_published_results"] = self._publish
        try:
            response = once.run_project(project_id, **kwargs)
        except Failure as failure:
            raise Failure(
                f"launching Hex project {project_id} failed ({failure.description}); Hex's "
                "answer is in the log above"
            ) from None
        self.started = (project_id, response["runId"])
        self._logger.info(f"Hex run {response['runId']} started: {response.get('runUrl')}")
        return response

    def cancel_run(self, project_id, run_id):
        response = requests.delete(
            f"{self.api_base_url}/api/v1/projects/{project_id}/runs/{run_id}",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
        )
        # 422: the run had already ended (HEX_API.md).
        if response.status_code not in (200, 204, 422):
            raise Failure(
                f"cancelling Hex run {run_id} failed: {response.status_code} {response.text[:300]}"
            )
        return run_id

    def cancel_started(self):
        if self.started is None:
            return
        try:
            self.cancel_run(*self.started)
            self._logger.info(f"cancelled Hex run {self.started[1]}")
        except Exception as e:  # noqa: BLE001 - the op is being stopped anyway
            self._logger.error(f"could not cancel Hex run {self.started[1]}: {e}")


def _base_url(url):
    """The URL dagster_hex wants, the host's root, from hexdash's HEX_API_URL (which ends in
    /api/v1, or not). Plain http only to this machine, as hexdash allows."""
    root = url.strip().rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    scheme, _, rest = root.partition("://")
    host = rest.split("/")[0].rsplit("@")[-1]
    hostname = host[1:].split("]")[0] if host.startswith("[") else host.split(":")[0]
    if scheme not in ("https", "http") or not hostname:
        raise Failure(f"HEX_API_URL = {url!r} is no https:// URL")
    if "/" in rest:
        raise Failure(
            f"HEX_API_URL = {url!r} has a path: dagster_hex calls /api/v1 at the host's root"
        )
    if scheme == "http" and hostname not in ("localhost", "127.0.0.1", "::1"):
        raise Failure(
            f"HEX_API_URL = {url!r} is plain http: use https (plain http is for this machine "
            "only, e.g. hexdash emulator)"
        )
    return root


def _run_day(context, offset):
    """hexdash's today (0) and yesterday (-1): the local date when the Dagster run was created,
    so every op of one run, and every retry, gets the same date."""
    record = context.instance.get_run_record_by_id(context.run_id)
    created = record.create_timestamp if record else datetime.datetime.now(datetime.timezone.utc)
    return (created.astimezone().date() + datetime.timedelta(days=offset)).isoformat()


def _date(name, value):
    """A date parameter as hexdash sends it, YYYY-MM-DD, from a date or a date-time."""
    text = str(value).strip()
    try:
        if len(text) > 10 and text[10] in "T ":
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise Failure(f"{name} = {text!r} is not a date: write YYYY-MM-DD") from None


def _number(value):
    """A whole number as an int, as hexdash sends it (Dagster's float config gives 7.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _text(value):
    """A value inside text, as hexdash writes it: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _choices(name, values, options):
    """A multiselect's values, each one of its options."""
    wrong = [v for v in values if v not in options]
    if wrong:
        raise Failure(f"{name}: {wrong} not among the options {options}")
    return list(values)


def _fail_if_any(outputs):
    """Ends the Dagster run failed when a step with on_failure = "continue" failed, as hexdash
    ends such a pipeline failed (the steps after it have run by then)."""
    failed = [step for step, output in outputs.items() if "failed" in output]
    if failed:
        raise Failure(f'on_failure = "continue" step(s) failed: {", ".join(failed)}; see their logs')
