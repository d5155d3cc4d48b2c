"""The report section of the policy: optional, with defaults, and strict about its keys."""

import pytest
from pydantic import ValidationError

from syncer.core.policy import Policy, Report, ReportSchedule
from tests.builders import example_policy


class TestReportSection:
    def test_a_policy_without_a_report_section_gets_the_defaults(self) -> None:
        """Mondays 09:00 UTC, the weekly-review and operating-log labels, three file formats."""
        report = Policy(version="1").report
        assert (report.label, report.log_label, report.title) == (
            "pmsync/weekly-review",
            "pmsync/operating-log",
            "Reliability review",
        )
        assert (report.schedule.weekday, report.schedule.time, report.schedule.timezone) == (
            "mon",
            "09:00",
            "UTC",
        )
        assert report.formats == ["markdown", "html", "json"]

    def test_the_example_publishes_on_mondays_in_berlin(self) -> None:
        """The shipped example names its tracker, repository and schedule."""
        report = example_policy().report
        assert (report.tracker, report.repository) == ("github", "acme/platform")
        assert report.schedule == ReportSchedule(
            weekday="mon", time="09:00", timezone="Europe/Berlin"
        )

    def test_weekday_names_are_shortened_and_checked(self) -> None:
        """Monday means mon; a day that does not exist is an error naming the choices."""
        assert ReportSchedule(weekday="Monday").weekday == "mon"
        with pytest.raises(ValidationError, match="weekday is one of mon, tue"):
            ReportSchedule(weekday="someday")

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("time", "9am", "String should match pattern"),
            ("timezone", "Mars/Olympus", "unknown timezone"),
        ],
    )
    def test_bad_times_and_timezones_are_rejected(
        self, field: str, value: str, message: str
    ) -> None:
        """A schedule the daemon could not follow fails at start-up, not on Monday."""
        with pytest.raises(ValidationError, match=message):
            ReportSchedule(**{field: value})

    def test_unknown_keys_and_formats_are_errors(self) -> None:
        """extra=forbid: a misspelt key or an unknown format is reported."""
        with pytest.raises(ValidationError, match="Extra inputs"):
            Report.model_validate({"lable": "x"})
        with pytest.raises(ValidationError, match="formats"):
            Report.model_validate({"formats": ["pdf"]})
