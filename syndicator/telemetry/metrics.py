"""Metrics facade: every Prometheus series the program exports, behind named functions."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Our own registry: no process/platform collectors from other libraries leak in by
# accident, and tests can read a clean set of series.
REGISTRY = CollectorRegistry(auto_describe=True)
# The *_created series double the output and no alert or dashboard here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (5, 15, 30, 60, 90, 120, 180, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
_SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

_ingested = Counter("syndicator_bulletins_ingested", "Bulletins a poll found, by kind.",
                    ["kind"], registry=REGISTRY)
_feeds_rebuilt = Counter("syndicator_feeds_rebuilt", "Feed builds that ran.", registry=REGISTRY)
_feed_files = Counter("syndicator_feed_files_written",
                      "Feed files whose bytes changed and were rewritten.", registry=REGISTRY)
_deliveries = Counter("syndicator_deliveries", "Delivery attempts by result and SMTP reply code.",
                      ["result", "smtp_code"], registry=REGISTRY)
_queue_depth = Gauge("syndicator_delivery_queue_depth",
                     "Deliveries not yet final (pending or waiting for a retry).",
                     registry=REGISTRY)
_send_seconds = Histogram("syndicator_send_duration_seconds",
                          "Time to hand one message to the transport.",
                          buckets=_SEND_BUCKETS, registry=REGISTRY)
_latency = Histogram("syndicator_publication_to_send_seconds",
                     "From a bulletin's publication on the portal to the immediate message "
                     "announcing it being accepted by the transport.",
                     buckets=_LATENCY_BUCKETS, registry=REGISTRY)
_job_success = Gauge("syndicator_job_last_success_timestamp_seconds",
                     "Unix time of each job's last successful run.", ["task"], registry=REGISTRY)
_job_failures = Counter("syndicator_job_failures", "Job runs that ended in an error.", ["task"],
                        registry=REGISTRY)
_job_seconds = Histogram("syndicator_job_duration_seconds", "Run time of each job.", ["task"],
                         buckets=_JOB_BUCKETS, registry=REGISTRY)
_page_actions = Counter("syndicator_subscriber_page_actions",
                        "Changes made on the subscriber pages, by action.", ["action"],
                        registry=REGISTRY)
_page_refusals = Counter("syndicator_subscriber_page_refusals",
                         "Requests the subscriber pages refused or answered without acting, "
                         "by reason.", ["reason"], registry=REGISTRY)
_page_mails = Counter("syndicator_subscriber_page_mails",
                      "Confirmation and manage-link mails the pages sent, by kind and result.",
                      ["kind", "result"], registry=REGISTRY)
_mail_ceiling = Counter("syndicator_subscriber_mail_ceiling",
                        "Page requests refused because subscriptions.mails_per_hour "
                        "confirmation and manage-link mails went out in the last hour.",
                        registry=REGISTRY)
_rows_skipped = Counter("syndicator_source_rows_skipped",
                        "Portal rows a poll could not ingest, by reason (counted at each "
                        "poll that meets them).", ["reason"], registry=REGISTRY)
_rows_skipped_now = Gauge("syndicator_source_rows_skipped_now",
                          "Portal rows skipped now (`syndicator source problems`), by reason.",
                          ["reason"], registry=REGISTRY)
_corrections = Counter("syndicator_corrections_planned",
                       "Subscribers told of a corrected or withdrawn bulletin, by how (immediate "
                       "mail, next_digest) and what (corrected, withdrawn).", ["how", "what"],
                       registry=REGISTRY)
_clock_back = Counter("syndicator_clock_went_back",
                      "Times the clock was found behind our own stamps (and they were "
                      "repaired).", registry=REGISTRY)
_console_sign_ins = Counter("syndicator_console_sign_ins",
                           "Sign-ins to the operator's console, by result (ok, credentials, "
                           "rate_limited).", ["result"], registry=REGISTRY)
_run_overdue = Gauge("syndicator_digest_run_overdue",
                     "1 while the latest scheduled run of a frequency is not complete past its "
                     "deadline.", ["frequency"], registry=REGISTRY)
_returned = Gauge("syndicator_returned_messages_last_day",
                  "Returned messages recorded in the last 24 hours, by kind (however they came "
                  "in: `bounces read` or the bounces.imap mailbox).", ["kind"],
                  registry=REGISTRY)
_forwards_pending = Gauge("syndicator_returned_forwards_pending",
                          "Unknown returned messages still to forward to mail.reply_to.",
                          registry=REGISTRY)
_ready = Gauge("syndicator_ready", "1 when /healthz/ready answers 200.", registry=REGISTRY)
_started = Gauge("syndicator_start_timestamp_seconds", "Unix time the daemon started.",
                 registry=REGISTRY)
_info = Gauge("syndicator_build_info", "Always 1; the running version as a label.", ["version"],
              registry=REGISTRY)

JOBS = ("poll", "feeds", "digest_daily", "digest_weekly", "deliver", "recovery", "heartbeat",
        "returns")
DIGEST_FREQUENCIES = ("immediate", "daily", "weekly")  # each has a deadline (overdue gauge)
RETURNED_KINDS = ("hard", "soft", "delivered", "complaint", "unsubscribe", "auto_reply",
                  "unknown")


def started() -> None:
    """Mark the daemon's start; pre-create per-job series so dashboards see zeros, not gaps."""
    _started.set(time.time())
    try:
        _info.labels(version("syndicator")).set(1)
    except PackageNotFoundError:  # running from a source tree that was never installed
        _info.labels("unknown").set(1)
    for job in JOBS:
        _job_failures.labels(job)
        _job_seconds.labels(job)
    for frequency in DIGEST_FREQUENCIES:
        _run_overdue.labels(frequency).set(0)


def bulletins_ingested(kind: str, count: int) -> None:
    if count:
        _ingested.labels(kind).inc(count)


def feeds_rebuilt(files_written: int = 0) -> None:
    _feeds_rebuilt.inc()
    _feed_files.inc(files_written)


def delivery(result: str, smtp_code: int | str | None = None) -> None:
    """One attempt's outcome (sent, retry, failed, ...) and the server's reply code if any."""
    _deliveries.labels(result, str(smtp_code) if smtp_code is not None else "").inc()


def queue_depth(count: int) -> None:
    _queue_depth.set(count)


def send_duration(seconds: float) -> None:
    _send_seconds.observe(seconds)


def publication_to_send(seconds: float) -> None:
    _latency.observe(max(seconds, 0.0))


def job_succeeded(job: str, seconds: float) -> None:
    _job_success.labels(job).set(time.time())
    _job_seconds.labels(job).observe(seconds)


def job_failed(job: str, seconds: float) -> None:
    _job_failures.labels(job).inc()
    _job_seconds.labels(job).observe(seconds)


def page_action(action: str) -> None:
    _page_actions.labels(action).inc()


def page_refused(reason: str) -> None:
    _page_refusals.labels(reason).inc()


def page_mail(kind: str, sent: bool) -> None:
    _page_mails.labels(kind, "sent" if sent else "failed").inc()


def page_mail_ceiling() -> None:
    _mail_ceiling.inc()


def source_row_skipped(reason: str) -> None:
    _rows_skipped.labels(reason).inc()


def source_rows_skipped_now(by_reason: dict[str, int]) -> None:
    """The current list by reason; reasons no longer present go back to zero."""
    for labels in list(_rows_skipped_now._metrics):  # noqa: SLF001 - the set of label tuples
        if labels[0] not in by_reason:
            _rows_skipped_now.labels(*labels).set(0)
    for reason, count in by_reason.items():
        _rows_skipped_now.labels(reason).set(count)


def corrections_planned(how: str, what: str, count: int) -> None:
    _corrections.labels(how, what).inc(count)


def clock_went_back() -> None:
    _clock_back.inc()


def console_sign_in(result: str) -> None:
    _console_sign_ins.labels(result).inc()


def digest_run_overdue(frequency: str, overdue: bool) -> None:
    """Whether the run of `frequency` due last is still incomplete past its deadline."""
    _run_overdue.labels(frequency).set(1 if overdue else 0)


def returned_messages(counts: dict[str, int], forwards_pending: int) -> None:
    """What came back in the last 24 hours, by kind, as the state database says now."""
    for kind in sorted(set(RETURNED_KINDS) | set(counts)):
        _returned.labels(kind).set(counts.get(kind, 0))
    _forwards_pending.set(forwards_pending)


def ready(is_ready: bool) -> None:
    _ready.set(1 if is_ready else 0)


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    return generate_latest(REGISTRY)
