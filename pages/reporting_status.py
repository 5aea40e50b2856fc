"""Reporting status: national data, baseline only or none by indicator and year; M&E reports on
time, late or missing per period."""

from mmicd.ui import reporting, store

reporting.page(store())
