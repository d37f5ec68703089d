"""Managers' side: interaction-log exports (CSV/XLSX) and reports with charts. Channel-agnostic: no Telegram here."""

from reports.filters import LOGS_USAGE, REPORT_USAGE, LogFilter, UsageError, parse_log_args, parse_report_args
from reports.jobs import LogExport, Report, Requester, export_logs, make_report
from reports.packaging import TELEGRAM_UPLOAD_LIMIT, Upload, fit_for_upload
from reports.periods import Period, PeriodError, parse_period

__all__ = [
    "LOGS_USAGE",
    "REPORT_USAGE",
    "TELEGRAM_UPLOAD_LIMIT",
    "LogExport",
    "LogFilter",
    "Period",
    "PeriodError",
    "Report",
    "Requester",
    "Upload",
    "UsageError",
    "export_logs",
    "fit_for_upload",
    "make_report",
    "parse_log_args",
    "parse_period",
    "parse_report_args",
]
