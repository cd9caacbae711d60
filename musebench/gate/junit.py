"""JUnit XML for CI systems (GitHub Actions, GitLab, Jenkins): one test case per gate check.

Schema: the de-facto JUnit format read by those tools (testsuites > testsuite > testcase, with a
<failure message=...> child on a failed case), as written by pytest's --junitxml.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from musebench.cache.atomic import write_atomic
from musebench.gate.evaluate import Check, GateReport
from musebench.results.schema import format_params
from musebench.gate.rule import FAIL, NOISE
from musebench.gate.table import HEADER, check_cells


def _case(suite: ET.Element, report: GateReport, check: Check) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"musebench.gate.{report.suite_name}.{check.row.model}",
        name=f"{check.row.metric} [{format_params(check.row.params)}] {check.spec.describe()}",
        time="0",
    )
    details = "\n".join(f"{k}: {v}" for k, v in zip(HEADER, check_cells(check)))
    if check.verdict == FAIL:
        message = "; ".join(o.reason for o in check.failures)
        failure = ET.SubElement(case, "failure", message=message, type="GateFailed")
        failure.text = details
    else:
        out = ET.SubElement(case, "system-out")
        out.text = details + ("\n(limit crossed but within the 95 % noise band)" if check.verdict == NOISE else "")


def to_xml(report: GateReport) -> bytes:
    root = ET.Element("testsuites")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"musebench gate: {report.suite_name}",
        tests=str(len(report.checks)),
        failures=str(len(report.failed)),
        errors="0",
        skipped="0",
    )
    for check in report.checks:
        _case(suite, report, check)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(report: GateReport, path: str | Path) -> Path:
    return write_atomic(Path(path), to_xml(report), "--junit")
