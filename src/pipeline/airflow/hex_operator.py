class HexRunOperator(BaseOperator):
    """Runs one Hex project through Hex's REST API and waits for its run to end.

    Python's standard library only, so the DAG needs no package beyond Airflow. Reads the same
    Airflow connection as Hex's provider: host = the Hex URL (with or without a scheme, which
    then defaults to https, and with or without /api/v1), password = the API token. Returns
    Hex's run status object (runId, status, runUrl, endTime, ...), which Airflow keeps as the
    task's XCom for the steps after it.
    """

    template_fields = ("input_parameters",)
    ui_color = "#f5c2e7"

    def __init__(
        self,
        *,
        project_id,
        input_parameters=None,
        update_published_results=None,
        use_cached_sql_results=None,
        hex_conn_id="hex_default",
        poll_seconds=3,
        timeout=None,
        kill_on_timeout=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.project_id = project_id
        self.input_parameters = input_parameters
        self.update_published_results = update_published_results
        self.use_cached_sql_results = use_cached_sql_results
        self.hex_conn_id = hex_conn_id
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self.kill_on_timeout = kill_on_timeout
        self._api = None
        self._run_path = None

    def execute(self, context):
        self._api = _HexApi.from_connection(self.hex_conn_id, self.log)
        body = {}
        if self.input_parameters:
            body["inputParams"] = self.input_parameters
        if self.update_published_results is not None:
            body["updatePublishedResults"] = self.update_published_results
        if self.use_cached_sql_results is not None:
            body["useCachedSqlResults"] = self.use_cached_sql_results
        project = _quote(self.project_id)
        # Sent once: a launch whose answer is lost may still have started a run, and sending it
        # again could start a second one. (Hex creates nothing when it answers 429 or 503.)
        started = self._api.request("POST", f"/projects/{project}/runs", body, resend=False)
        run_id = started.get("runId")
        if not isinstance(run_id, str):
            raise AirflowException(f"Hex's answer to the launch has no runId: {started}")
        # on_kill may cancel the run while this polls: it clears _run_path, the loop keeps its own.
        path = f"/projects/{project}/runs/{_quote(run_id)}"
        self._run_path = path
        self.log.info("Hex run %s started: %s", run_id, started.get("runUrl"))
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        shown = None
        while True:
            try:
                run = self._api.request("GET", path)
            except AirflowException as e:
                # Hex cannot be asked: cancel the run if possible rather than leave it going
                # while Airflow retries the task with a new one.
                cancelled = self._cancel_once()
                raise AirflowException(
                    f"lost track of Hex run {run_id} ({e}); "
                    + ("cancelled it" if cancelled else "it may still be running")
                ) from None
            status = run.get("status")
            if status != shown:
                self.log.info("Hex run %s is %s", run_id, status)
                shown = status
            if status == "COMPLETED":
                self._run_path = None
                return run
            if status in _ENDED_FAILED:
                self._run_path = None
                raise AirflowException(
                    f"Hex run {run_id} of project {self.project_id} ended {status}: "
                    f"{run.get('runUrl') or started.get('runUrl')}"
                )
            # Any other status (PENDING, RUNNING, or one newer than this operator) is not an end:
            # HEX_API.md says to keep polling an unknown status.
            if deadline is not None and time.monotonic() >= deadline:
                if self.kill_on_timeout:
                    ended = self._cancel_until_ended(path)
                    raise AirflowException(
                        f"Hex run {run_id} of project {self.project_id} timed out after "
                        f"{self.timeout} s and was cancelled (now {ended})"
                    )
                self._run_path = None
                raise AirflowException(
                    f"Hex run {run_id} of project {self.project_id} timed out after "
                    f"{self.timeout} s; it was left running (kill_on_timeout=False)"
                )
            time.sleep(self.poll_seconds)

    def on_kill(self):
        # Airflow stops the task (marked failed or cleared, SIGTERM, execution_timeout): cancel
        # its Hex run rather than leave it going. One request; its end is not awaited here.
        if self._cancel_once():
            self.log.info("cancelled the Hex run of project %s", self.project_id)

    def _cancel_once(self):
        path, self._run_path = self._run_path, None
        if self._api is None or path is None:
            return False
        try:
            self._api.request("DELETE", path, resend=False)
            return True
        except Exception as e:  # noqa: BLE001 - called from on_kill and error paths
            self.log.error("could not cancel the Hex run %s: %s", path, e)
            return False

    def _cancel_until_ended(self, path):
        """Cancels the run (unless on_kill just did) and polls until Hex reports it ended, for up
        to a minute."""
        self._cancel_once()
        until = time.monotonic() + 60
        status = "cancel sent"
        while time.monotonic() < until:
            status = self._api.request("GET", path).get("status")
            if status == "COMPLETED" or status in _ENDED_FAILED:
                break
            time.sleep(min(self.poll_seconds, 5))
        return status


_ENDED_FAILED = ("ERRORED", "KILLED", "UNABLE_TO_ALLOCATE_KERNEL")


def _quote(segment):
    return urllib.parse.quote(segment, safe="")


class _HexApi:
    """Calls Hex's API with an Airflow connection's token. The token goes in the Authorization
    header only: it is never logged or put in a message."""

    # Hex answers with small JSON objects; nothing larger is read.
    MAX_BODY = 1 << 20
    MAX_WAIT = 300

    def __init__(self, root, token, log):
        self.root = root
        self._token = token
        self._log = log

    @classmethod
    def from_connection(cls, conn_id, log):
        conn = BaseHook.get_connection(conn_id)
        if not conn.password:
            raise AirflowException(
                f"the Airflow connection {conn_id!r} has no password: set it to a Hex API token"
            )
        return cls(_api_root(conn.host, conn.port, conn_id), conn.password, log)

    def request(self, method, path, body=None, resend=True):
        """The JSON object Hex answers. A 429 is waited out (its Retry-After, HEX_API.md) and
        the request sent again, as Hex did nothing; with `resend`, so are a lost answer and a
        5xx, a few times."""
        data = None if body is None else json.dumps(body).encode()
        failures = 0
        while True:
            req = urllib.request.Request(self.root + path, data=data, method=method)
            req.add_header("Authorization", f"Bearer {self._token}")
            req.add_header("Accept", "application/json")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    raw = response.read(self.MAX_BODY + 1)
                if len(raw) > self.MAX_BODY:
                    raise AirflowException(f"Hex's answer to {method} {path} is too large")
                answer = json.loads(raw) if raw.strip() else {}
                if not isinstance(answer, dict):
                    raise AirflowException(f"Hex's answer to {method} {path} is not an object")
                return answer
            except urllib.error.HTTPError as e:
                text = e.read(self.MAX_BODY).decode("utf-8", "replace")
                if e.code == 429:
                    wait = _retry_after(e.headers.get("Retry-After"), self.MAX_WAIT)
                    self._log.warning("Hex answered 429 (rate limit): waiting %.0f s", wait)
                    time.sleep(wait)
                    continue
                if resend and e.code >= 500 and failures < 4:
                    failures += 1
                    time.sleep(2**failures)
                    continue
                raise AirflowException(_problem(method, path, e.code, text)) from None
            except (urllib.error.URLError, OSError, ValueError) as e:
                if resend and failures < 4:
                    failures += 1
                    time.sleep(2**failures)
                    continue
                said = f"{method} {self.root}{path} failed: {e}"
                if not resend:
                    said += " (not sent again: Hex may have carried it out)"
                raise AirflowException(said) from None


def _api_root(host, port, conn_id):
    """The API root from a connection, read as Hex's provider reads its host (no scheme means
    https), and also accepting a host that already ends in /api/v1. Plain http is refused except
    to this machine (the emulator), so the token never crosses a network in the clear."""
    url = (host or "").strip().rstrip("/")
    if not url:
        raise AirflowException(
            f"the Airflow connection {conn_id!r} has no host: set it to the Hex URL, e.g. "
            "https://app.hex.tech"
        )
    if "://" not in url:
        url = "https://" + url
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AirflowException(f"the host of connection {conn_id!r} is no https:// URL: {url}")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise AirflowException(
            f"the host of connection {conn_id!r} is plain http to {parts.hostname}: use https "
            "(plain http is only for this machine, e.g. hexdash emulator)"
        )
    if port and parts.port is None:
        url = f"{parts.scheme}://{parts.netloc}:{port}{parts.path}"
    return url + "/api/v1"


def _retry_after(value, cap):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 10 + random.uniform(0, 5)
    return min(max(seconds, 1.0), cap)


def _problem(method, path, code, text):
    """Hex's error on one line: its reason, details, invalid parameters and trace id."""
    try:
        body = json.loads(text)
        said = [body.get("reason"), body.get("details")]
        wrong = {k: body[k] for k in ("invalid", "notFound") if body.get(k)}
        if wrong:
            said.append(json.dumps(wrong))
        said = ": ".join(str(s) for s in said if s)
        if body.get("traceId"):
            said += f" (trace id {body['traceId']})"
    except (ValueError, AttributeError):
        said = text[:300]
    said = "".join(c if c.isprintable() else " " for c in said)
    return f"Hex answered {code} to {method} {path}: {said}"
