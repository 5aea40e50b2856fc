"""What awaits a user: the inbox shown on sign-in and in the sidebar, and mailed as a daily digest.

Four kinds of item, by the role and country rules of :mod:`mmicd.auth`:

* **to review** — dataset versions and M&E reports submitted, for users who may review (reviewers,
  admins) and whose countries cover the dataset's or intervention's country;
* **returned** — a user's own dataset versions returned to draft with a note (the version's
  uploader), and M&E reports returned with a note, for those who report progress in that country;
* **reports due / overdue** — the latest reporting period of an indicator (:mod:`mmicd.me.progress`)
  that has ended, or ends within :data:`DUE_SOON_DAYS`, without a report received; overdue once
  its grace period has passed; for those who report progress in the country;
* **interventions ending** — ongoing interventions ending within :data:`ENDING_DAYS`, for the
  analysts and reviewers of the country.

Pure: :func:`inbox_items` takes the versions and the portfolio; :func:`load` reads them from a store.
Every text an item carries from users (titles, notes) is kept literally; :func:`item_text` builds
the sentence from translated templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from mmicd.auth import Action, User, can
from mmicd.i18n import format_date, t
from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import InterventionStatus, ReportState
from mmicd.me.progress import reporting_periods
from mmicd.model import DatasetVersion, Status

DUE_SOON_DAYS = 30
ENDING_DAYS = 90


class Kind(StrEnum):
    TO_REVIEW = "to_review"
    RETURNED = "returned"
    OVERDUE = "overdue"
    DUE = "due"
    ENDING = "ending"


KIND_ORDER = [Kind.TO_REVIEW, Kind.RETURNED, Kind.OVERDUE, Kind.DUE, Kind.ENDING]


@dataclass(frozen=True)
class Item:
    kind: Kind
    what: str  # "dataset", "report", "indicator" or "intervention"
    ref: str  # its id
    title: str  # user text, shown literally
    country: str
    when: date | None = None  # due date, end date, or date of the status change
    note: str = ""  # the reviewer's note (returned), user text
    page: str = ""  # the page's url_path where to act
    params: dict[str, str] = field(default_factory=dict)

    @property
    def link(self) -> str:
        """The relative address of the page where to act (``review?dataset=12``)."""
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.page}?{query}" if query else self.page


def _reviews(user: User, country: str) -> bool:
    return can(user, Action.REVIEW, country) and user.covers(country)


def _reports(user: User, country: str) -> bool:
    return can(user, Action.REPORT_PROGRESS, country)


def _date(moment) -> date | None:
    return moment.date() if moment is not None else None


def dataset_items(user: User, versions: list[DatasetVersion]) -> list[Item]:
    items = []
    for v in versions:
        title = v.title or v.source
        if v.status == Status.SUBMITTED and _reviews(user, v.scope):
            items.append(Item(Kind.TO_REVIEW, "dataset", str(v.id), title, v.scope, _date(v.status_changed_at),
                              page="review", params={"dataset": str(v.id)}))
        elif (v.status == Status.DRAFT and v.status_note and v.status_changed_by
              and v.loaded_by == user.label and can(user, Action.SUBMIT, v.scope)):
            items.append(Item(Kind.RETURNED, "dataset", str(v.id), title, v.scope, _date(v.status_changed_at),
                              note=v.status_note, page="review", params={"dataset": str(v.id)}))
    return items


def me_items(user: User, portfolio, today: date, config: MeConfig | None = None) -> list[Item]:
    """Reports to review or returned, reports due or overdue, interventions ending (``portfolio``:
    a :class:`mmicd.me.repository.Portfolio`)."""
    config = config or me_config()
    grace = timedelta(days=config.grace_days)
    items = []
    for iv in portfolio.interventions:
        country = iv.country
        reviews, reports = _reviews(user, country), _reports(user, country)
        params = {"country": country, "intervention": iv.id}
        if (reviews or reports) and iv.status == InterventionStatus.ONGOING and today <= iv.end \
                <= today + timedelta(days=ENDING_DAYS):
            items.append(Item(Kind.ENDING, "intervention", iv.id, iv.title, country, iv.end,
                              page="interventions", params=params))
        for ind in portfolio.indicators_of(iv.id):
            own = portfolio.reports_of(ind.id)
            ind_params = {**params, "indicator": ind.id}
            for r in own:
                if r.state == ReportState.SUBMITTED and reviews:
                    items.append(Item(Kind.TO_REVIEW, "report", str(r.id), ind.name, country, r.period_end,
                                      page="review", params={"report": str(r.id)}))
                elif r.state == ReportState.RETURNED and reports:
                    items.append(Item(Kind.RETURNED, "report", str(r.id), ind.name, country, r.period_end,
                                      note=r.note, page="interventions", params={**ind_params, "report": str(r.id)}))
            if not reports or ind.link is not None or iv.status not in (InterventionStatus.ONGOING,
                                                                         InterventionStatus.COMPLETED):
                continue
            periods = reporting_periods(ind.frequency, max(ind.baseline_date, iv.start), min(ind.end_date, iv.end))
            ended = [p for p in periods if p[1] <= today + timedelta(days=DUE_SOON_DAYS)]
            if not ended:
                continue
            start, end = ended[-1]
            received = [r for r in own if r.state in config.received_states and r.period_end >= start]
            if received:
                continue
            kind = Kind.OVERDUE if end + grace < today else Kind.DUE
            items.append(Item(kind, "indicator", ind.id, ind.name, country, end + grace,
                              page="interventions", params=ind_params))
    return items


def inbox_items(user: User, versions: list[DatasetVersion], portfolio, today: date,
                config: MeConfig | None = None) -> list[Item]:
    """Everything awaiting ``user`` on ``today``, most pressing kind first, then by date."""
    if user.is_anonymous:
        return []
    items = dataset_items(user, versions) + me_items(user, portfolio, today, config)
    return sorted(items, key=lambda i: (KIND_ORDER.index(i.kind), i.when or date.max, i.what, i.ref))


def load(store, user: User, today: date) -> list[Item]:
    from mmicd.me.repository import load_portfolio

    if user.is_anonymous:
        return []
    return inbox_items(user, store.datasets(), load_portfolio(store), today)


def counts(items: list[Item]) -> dict[Kind, int]:
    return {kind: sum(1 for i in items if i.kind == kind) for kind in KIND_ORDER if any(i.kind == kind for i in items)}


def badge(items: list[Item], lang: str) -> str:
    """The sidebar's line: "Inbox: 3 items" (plain text)."""
    return t("inbox.badge", lang, n=len(items))


def kind_label(kind: Kind, lang: str, n: int) -> str:
    return t(f"inbox.kind.{kind.value}", lang, n=n)


def item_text(item: Item, lang: str) -> str:
    """One line saying what awaits, from a translated template; user text inserted literally."""
    return t(f"inbox.item.{item.kind.value}.{item.what}", lang, title=item.title, country=item.country,
             date=format_date(item.when, lang) if item.when else "–", ref=item.ref)
