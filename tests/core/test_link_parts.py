"""``link_parts``'s shortcut for plain links splits every URL the way ``urlsplit`` does.

``reference`` is how ``LinkClassifier.kind`` split links before the shortcut, kept as the
oracle: same parts, or ``ValueError`` from both.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from syncer.core.evidence_links import default_classifier, link_parts
from syncer.core.model import EvidenceKind

SCHEMES = ["https://", "http://", "HTTPS://", "Http://", "ftp://", "//", "", "https:", "https:/"]
HOSTS = [
    "github.com",
    "grafana.acme.example:3000",
    "user:pw@ci.acme.example",
    "[::1]",
    "[::1",
    "::1]",
    "ｇｉｔｈｕｂ.com",
    "bücher.example",
    "acme\uff0fexample.com",
    "a\uff20b.example",
    "\tgithub.com",
    "exa\nmple.com",
    "",
    " ",
]
PATHS = [
    "",
    "/",
    "/acme/api/pull/12",
    "/d/slo?orgId=1",
    "/d/slo?",
    "/page#",
    "/page?#top",
    "/page#a?b",
    "?q=1",
    "#frag",
    "/a b/ç/%20",
    "/x\ty",
    "/x\r\ny",
    "/[x]",
    "/a://b",
    "//double",
]


def reference(url: str) -> tuple[str, str]:
    """The netloc and the path with query and fragment, through ``urlsplit`` alone."""
    parts = urlsplit(url)
    rest = parts.path
    if parts.query:
        rest = f"{rest}?{parts.query}"
    if parts.fragment:
        rest = f"{rest}#{parts.fragment}"
    return parts.netloc, rest


def outcome(split: object, url: str) -> tuple[str, str] | str:
    try:
        return split(url)  # type: ignore[operator,no-any-return]
    except ValueError:
        return "ValueError"


class TestSameAsUrlsplit:
    @pytest.mark.parametrize(
        ("url", "parts"),
        [
            ("https://github.com/acme/api/pull/12", ("github.com", "/acme/api/pull/12")),
            ("http://grafana.acme.example:3000", ("grafana.acme.example:3000", "")),
            ("https://grafana.acme.example/d/slo?", ("grafana.acme.example", "/d/slo")),
        ],
    )
    def test_plain_links_and_an_empty_query(self, url: str, parts: tuple[str, str]) -> None:
        """A trailing ``?`` is dropped, as ``urlsplit`` drops it."""
        assert link_parts(url) == reference(url) == parts

    def test_a_half_bracketed_host_raises_like_urlsplit(self) -> None:
        with pytest.raises(ValueError, match="IPv6"):
            link_parts("https://[::1/x")

    @given(st.sampled_from(SCHEMES), st.sampled_from(HOSTS), st.lists(st.sampled_from(PATHS)))
    @example("https://", "\tgithub.com", ["/acme/api/pull/12"])  # urlsplit removes tabs
    @example("https://", "github.com", ["/x\r\ny"])  # and line breaks
    @example("https://", "[::1", ["/x"])  # it checks brackets
    @example("https://", "acme\uff0fexample.com", [])  # and what NFKC makes of a host
    @example("https://", "github.com", ["/page?#top"])  # it drops an empty query
    @example("https://", "github.com", ["/page#"])  # and an empty fragment
    def test_url_shaped_text_splits_the_same(
        self, scheme: str, host: str, paths: list[str]
    ) -> None:
        url = scheme + host + "".join(paths)
        assert outcome(link_parts, url) == outcome(reference, url)

    @given(st.sampled_from(SCHEMES), st.text(max_size=40), st.text(max_size=60))
    def test_any_text_splits_the_same(self, scheme: str, host: str, path: str) -> None:
        """Brackets, unicode, control characters and separators anywhere."""
        url = f"{scheme}{host}/{path}"
        assert outcome(link_parts, url) == outcome(reference, url)

    def test_classifying_still_types_links_by_host_and_path(self) -> None:
        links = default_classifier()
        assert links.kind("https://github.com/acme/api/pull/12") is EvidenceKind.PULL_REQUEST
        assert links.kind("https://grafana.acme.example/d/slo?orgId=1") is EvidenceKind.DASHBOARD
        assert links.kind("https://[::1/x") is EvidenceKind.OTHER
