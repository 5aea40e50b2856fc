"""An evaluator of IATI Rulesets (``tests/fixtures/iati/standard.json``, the IATI Standard Ruleset 2.03).

Semantics of each rule type from the ruleset's specification (IATI-Rulesets ``SPEC.rst``) and the IATI
Validator's implementation (IATI/js-validator-api ``services/rulesValidator.js``): a case is skipped
when its ``condition`` is false or its ``idCondition`` does not hold (no identifier here is a
registered publisher's, so ``NOT_EXISTING_ORG_ID`` conditions always hold); ``NOW`` is the time the
check runs (``now``); ``ORG-ID-PREFIX`` is the set of registration-agency prefixes. XPath results are
read as XPath booleans (an empty node set is false). A rule type it does not know is an error, never
a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

KNOWN = {"atleast_one", "no_more_than_one", "only_one_of", "one_or_all", "dependent", "unique", "sum", "strict_sum",
         "date_order", "date_now", "time_limit", "between_dates", "regex_matches", "regex_no_matches", "startswith",
         "if_then", "range", "loop", "no_spaces"}


class UnknownRule(Exception):
    pass


@dataclass(frozen=True)
class Failure:
    rule_id: str
    severity: str
    rule: str
    message: str
    where: str  # the activity's identifier (or the element's path)


def _text(node) -> str:
    return "".join(node.itertext()) if isinstance(node, etree._Element) else str(node)


def _truthy(result) -> bool:
    return bool(result) if not isinstance(result, float) else result != 0


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None


class Evaluator:
    def __init__(self, ruleset: dict, *, now: datetime, org_id_prefixes: frozenset[str]):
        self.ruleset, self.now, self.prefixes = ruleset, now, org_id_prefixes
        self.applied: dict[str, int] = {}  # rule id -> times it applied (neither skipped nor not applicable)

    # ---- helpers ------------------------------------------------------------------------------
    def _date(self, element, path: str) -> date | None:
        if path == "NOW":
            return self.now.date()
        found = element.xpath(path)
        if not found or not str(found[0]).strip():
            return None
        return date.fromisoformat(str(found[0]).strip()[:10])

    # ---- one case -----------------------------------------------------------------------------
    def case(self, element, rule: str, case: dict) -> bool | None:
        """True (passes), False (fails) or None (skipped, or the rule does not apply)."""
        result = self._evaluate(element, rule, case)
        if result is not None:
            rule_id = case.get("ruleInfo", {}).get("id", "?")
            self.applied[rule_id] = self.applied.get(rule_id, 0) + 1
        return result

    def _evaluate(self, element, rule: str, case: dict) -> bool | None:
        if rule not in KNOWN:
            raise UnknownRule(f"rule type {rule!r} is not implemented by the test evaluator")
        if rule == "loop":
            raise UnknownRule("loop is evaluated by Evaluator.loop")
        if "condition" in case and not _truthy(element.xpath(case["condition"])):
            return None
        nested = [element.xpath(p) for p in case.get("paths", [])]
        matches = [m for group in nested for m in group]
        texts = [_text(m) for m in matches]
        if case.get("idCondition") not in (None, "NOT_EXISTING_ORG_ID", "NOT_EXISTING_ORG_ID_PREFIX"):
            raise UnknownRule(f"idCondition {case['idCondition']!r}")
        if rule == "atleast_one":
            return len(matches) >= 1
        if rule == "no_more_than_one":
            return len(matches) <= 1
        if rule == "only_one_of":
            return all(len(matches) == 0 if element.xpath(excluded) else len(matches) == 1
                       for excluded in case["excluded"])
        if rule == "dependent":
            return all(nested) or not any(nested)
        if rule == "one_or_all":
            if element.xpath(case["one"]):
                return True
            if case["all"] == "lang":
                return all(n.xpath("@xml:lang") for n in element.xpath("descendant::narrative"))
            if case["all"] == "sector":
                return all(tr.xpath("sector") for tr in element.xpath("transaction"))
            if case["all"] == "currency":
                return all(v.xpath("@currency") for kind in ("value", "forecast", "loan-status")
                           for v in element.xpath(f"descendant::{kind}"))
            raise UnknownRule(f"one_or_all 'all' = {case['all']!r}")
        if rule == "unique":
            return len(texts) == len(set(texts))
        if rule in ("sum", "strict_sum"):
            if rule == "sum" and not matches:
                return True
            values = [_number(x) for x in texts]
            return None not in values and sum(values, Decimal(0)) == Decimal(str(case["sum"]))
        if rule == "date_order":
            less, more = self._date(element, case["less"]), self._date(element, case["more"])
            return None if less is None or more is None else less <= more
        if rule == "date_now":
            found = element.xpath(case["date"])
            if not found:
                return None
            moment = datetime.fromisoformat(str(found[0]))
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= self.now
        if rule == "time_limit":
            start, end = self._date(element, case["start"]), self._date(element, case["end"])
            return None if start is None or end is None else (end - start).days <= 365
        if rule == "between_dates":
            day = self._date(element, case["date"])
            if day is None:
                return None
            return self._date(element, case["start"]) <= day <= self._date(element, case["end"])
        if rule in ("regex_matches", "regex_no_matches"):
            want = rule == "regex_matches"
            return all(x == "" or (re.search(case["regex"], x) is not None) == want for x in texts)
        if rule == "startswith":
            if case.get("prefix") == ["ORG-ID-PREFIX"]:
                return all("-".join(x.split("-")[:2]) in self.prefixes and x.count("-") >= 1 for x in texts)
            if "prefix" not in case:  # the earlier format: the text of the first match of ``start``
                first = element.xpath(case["start"])
                return all(x.startswith(_text(first[0])) for x in texts) if first else None
            starts = [_text(m) for p in case["prefix"] for m in element.xpath(p)]
            separator = case.get("separator", "")
            return all(any(x.startswith(s + separator) for s in starts) for x in texts)
        if rule == "if_then":
            return _truthy(element.xpath(case["then"])) if _truthy(element.xpath(case["if"])) else True
        if rule == "range":
            values = [_number(x) for x in texts]
            low, high = Decimal(str(case.get("min", "-Infinity"))), Decimal(str(case.get("max", "Infinity")))
            return all(v is not None and low <= v <= high for v in values)
        if rule == "no_spaces":
            return all(x == x.strip() for x in texts)
        raise UnknownRule(rule)  # pragma: no cover - KNOWN and the branches above agree

    def loop(self, element, case: dict) -> list[tuple[str, dict, bool | None]]:
        results = []
        groups = sorted({str(v) for v in element.xpath(case["foreach"])})
        for rule, sub in case["do"].items():
            for sub_case in sub["cases"]:
                for value in groups:
                    filled = dict(sub_case)
                    for key in case["subs"]:
                        v = sub_case[key]
                        filled[key] = [x.replace("$1", value) for x in v] if isinstance(v, list) \
                            else v.replace("$1", value)
                    results.append((rule, filled, self.case(element, rule, filled)))
        return results

    # ---- a document ---------------------------------------------------------------------------
    def failures(self, document: etree._Element) -> list[Failure]:
        tree = etree.ElementTree(document)
        out = []
        for context, rules in self.ruleset.items():
            for element in tree.xpath(context):
                activity = element if element.tag == "iati-activity" else next(
                    (a for a in element.iterancestors("iati-activity")), None)
                where = activity.findtext("iati-identifier") if activity is not None else tree.getpath(element)
                for rule, body in rules.items():
                    if rule not in KNOWN:
                        raise UnknownRule(f"rule type {rule!r} (context {context}) is not implemented")
                    for case in body["cases"]:
                        results = self.loop(element, case) if rule == "loop" else [(rule, case, self.case(
                            element, rule, case))]
                        for name, used, passed in results:
                            if passed is False:
                                info = used.get("ruleInfo", {"id": "?", "severity": "error", "message": rule})
                                out.append(Failure(info["id"], info["severity"], name, info["message"], where))
        return out
