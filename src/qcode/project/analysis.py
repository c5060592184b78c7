"""The analysis methods of ``Project`` (``matrix``, ``freq``, ``cooccur``, ``saturation``,
``segments``, ``framework``, ``query``, ``search``, ``code_hits``): each hands the project's
``Corpus`` to ``qcode.analysis`` (pandas imported on first use). Kept apart so that the
facade's module stays small; ``Project`` inherits them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.analysis.framework import FrameworkMatrix
    from qcode.analysis.report import Report, ReportOptions
    from qcode.analysis.retrieval import Retrieved
    from qcode.analysis.search import Hit, SearchResult
    from qcode.analysis.tally import PlainGrid
    from qcode.coding.hits import HitCoding
    from qcode.store.consistency import Assessment
    from qcode.store.corpus import Corpus


# Counting the command line prints: in plain Python up to this many codings in scope, with
# pandas above. Importing pandas costs about 0.3 s, which is most of a small study's
# command; plain Python costs about 6 µs a coding, pandas' vectorised counting under 1 µs
# (at 200,000 codings: 1.0-1.3 s against 0.1-0.2 s). Both give the same numbers (property
# tests in tests/test_tally.py); only the time differs.
PLAIN_COUNTING_LIMIT = 30_000


def coder_list(coders: str | list[str] | None) -> list[str] | None:
    """One coder's name or several, as the analysis takes them."""
    if coders is None:
        return None
    return [coders] if isinstance(coders, str) else list(coders)


class AnalysisMethods:
    """Counting, retrieval and search over the project."""

    if TYPE_CHECKING:  # pragma: no cover - what they use of ``Project``
        @property
        def corpus(self) -> Corpus: ...

        def assess(self, coders: str | list[str] | None = None, all_coders: bool = False,
                   uses: Iterable[str] = ("codebook", "attributes")) -> Assessment: ...

        def _with_memos(self, matrix: FrameworkMatrix) -> FrameworkMatrix: ...

        def memos(self, about: str | None = None) -> list[Any]: ...

    def matrix(self, by: str | list[str], measure: str = "segments", rollup: bool = False,
               coders: str | list[str] | None = None, all_coders: bool = False,
               where: Sequence[str] = (), codes: list[str] | None = None,
               totals: bool = False, min_documents: int = 1) -> pd.DataFrame:
        """Codes × attribute value(s) as a pandas DataFrame (see ``qcode.analysis``)."""
        from qcode.analysis import counting

        return counting.matrix(self.corpus, by, measure, rollup, coder_list(coders),
                               all_coders, where, codes, totals, min_documents)

    def freq(self, by: str | None = None, rollup: bool = False,
             coders: str | list[str] | None = None, all_coders: bool = False,
             where: Sequence[str] = (), codes: list[str] | None = None) -> pd.DataFrame:
        """Code frequencies (segments, documents, coders) as a DataFrame."""
        from qcode.analysis import counting

        return counting.freq(self.corpus, by, rollup, coder_list(coders), all_coders, where,
                             codes)

    def matrix_grid(self, by: str | list[str], measure: str = "segments",
                    rollup: bool = False, coders: str | list[str] | None = None,
                    all_coders: bool = False, where: Sequence[str] = (),
                    codes: list[str] | None = None, totals: bool = False,
                    min_documents: int = 1) -> PlainGrid | pd.DataFrame:
        """``matrix``'s cells, labels and ``attrs``: counted without pandas on a small
        project, else ``matrix`` itself (a DataFrame reads the same way)."""
        from qcode.analysis import tally

        if not self._counts_in_python(coders, all_coders, where, codes):
            return self.matrix(by, measure, rollup, coders, all_coders, where, codes, totals,
                               min_documents)
        return tally.matrix_grid(self.corpus, by, measure, rollup, coder_list(coders),
                                 all_coders, where, codes, totals, min_documents)

    def cooccur_grid(self, unit: str = "segment", rollup: bool = False,
                     coders: str | list[str] | None = None, all_coders: bool = False,
                     where: Sequence[str] = (), codes: list[str] | None = None,
                     min_documents: int = 1) -> PlainGrid | pd.DataFrame:
        """``cooccur``'s counts and ``attrs``: without pandas on a small project, else
        ``cooccur`` itself."""
        from qcode.analysis import tally

        if not self._counts_in_python(coders, all_coders, where, codes):
            return self.cooccur(unit, rollup, coders, all_coders, where, codes, min_documents)
        return tally.cooccur_grid(self.corpus, unit, rollup, coder_list(coders), all_coders,
                                  where, codes, min_documents)

    def freq_rows(self, by: str | None = None, rollup: bool = False,
                  coders: str | list[str] | None = None, all_coders: bool = False,
                  where: Sequence[str] = (), codes: list[str] | None = None
                  ) -> tuple[list[str], list[list[Any]]]:
        """``freq`` as a header and rows of plain values: counted without pandas on a
        small project, else ``freq``'s DataFrame as rows."""
        from qcode.analysis import tally

        if not self._counts_in_python(coders, all_coders, where, codes):
            from qcode.render.tables import frame_rows

            return frame_rows(self.freq(by, rollup, coders, all_coders, where, codes))
        return tally.freq_rows(self.corpus, by, rollup, coder_list(coders), all_coders,
                               where, codes)

    def _counts_in_python(self, coders: str | list[str] | None, all_coders: bool,
                          where: Sequence[str], codes: list[str] | None) -> bool:
        """Whether the codings in scope are few enough to count without pandas (see
        ``PLAIN_COUNTING_LIMIT``)."""
        from qcode.analysis.scope import resolve_scope

        scope = resolve_scope(self.corpus, coder_list(coders), all_coders, where, codes)
        return sum(len(t) for t in self.corpus.tables(scope.coders)) <= PLAIN_COUNTING_LIMIT

    def cooccur(self, unit: str = "segment", rollup: bool = False,
                coders: str | list[str] | None = None, all_coders: bool = False,
                where: Sequence[str] = (), codes: list[str] | None = None,
                min_documents: int = 1) -> pd.DataFrame:
        """Code × code co-occurrence counts as a DataFrame."""
        from qcode.analysis import cooccur

        return cooccur.cooccur(self.corpus, unit, rollup, coder_list(coders), all_coders,
                               where, codes, min_documents)

    def saturation(self, order: str | Path = "coding", coders: str | list[str] | None = None,
                   all_coders: bool = False, where: Sequence[str] = ()) -> pd.DataFrame:
        """New and cumulative distinct codes per transcript in an order (see
        ``qcode.analysis.saturation``)."""
        from qcode.analysis import saturation

        return saturation.saturation(self.corpus, order, coder_list(coders), all_coders,
                                     where)

    def report(self, options: ReportOptions) -> Report:
        """The sections and numbers of ``qcode report`` (``qcode.analysis.report``)."""
        from qcode.analysis.report import build_report

        changed = self.assess(options.coders, options.all_coders).changed
        made = build_report(self.corpus, options, changed, self.memos())
        if made.framework is not None:  # cell memos as ``qcode framework`` shows them
            made.framework = self._with_memos(made.framework)
        return made

    def segments(self, codes: list[str] | None = None, coders: str | list[str] | None = None,
                 all_coders: bool = False, where: Sequence[str] = (),
                 by: str | None = None) -> pd.DataFrame:
        """The coded segments with their text, attributes, passage and speaker."""
        return self.segment_rows(codes, coders, all_coders, where, by).frame()

    def segment_rows(self, codes: list[str] | None = None,
                     coders: str | list[str] | None = None, all_coders: bool = False,
                     where: Sequence[str] = (), by: str | None = None) -> Retrieved:
        """``segments`` as plain rows, without pandas (``qcode.analysis.retrieval``)."""
        from qcode.analysis import retrieval

        changed = self.assess(coders, all_coders).changed
        return retrieval.retrieve(self.corpus, codes, coder_list(coders), all_coders, where,
                                  by, changed)

    def framework(self, rows: str, codes: list[str], coders: str | list[str] | None = None,
                  all_coders: bool = False, where: Sequence[str] = (), quotes: int = 3,
                  pick: str = "longest") -> FrameworkMatrix:
        """Rows × themes, each cell the quotes of ``segments`` (``qcode.analysis.framework``)."""
        from qcode.analysis import framework

        changed = self.assess(coders, all_coders).changed
        return self._with_memos(framework.framework(
            self.corpus, rows, codes, coder_list(coders), all_coders, where, quotes, pick,
            changed))

    def query(self, expression: str, coders: str | list[str] | None = None,
              all_coders: bool = False, where: Sequence[str] = ()) -> pd.DataFrame:
        """Passages matching a code expression such as ``a & !b`` or ``near(a, b, 2)``."""
        from qcode.analysis import query

        changed = self.assess(coders, all_coders).changed
        return query.query(self.corpus, expression, coder_list(coders), all_coders, where,
                           changed)

    def search(self, pattern: str, **options: Any) -> SearchResult:
        """Where ``pattern`` occurs in the transcripts (or, with ``memos=True``, in the
        coding memos), with context and counts; the options are those of
        ``qcode.analysis.search.search`` (``mode``, ``score``, ``where``, ``speakers``,
        ``coder``, ``uncoded``, ``include_interviewer``, ...)."""
        from qcode.analysis.search import search

        return search(self.corpus, pattern, **options)

    def code_hits(self, hits: Iterable[Hit], code: str, coder: str, span: str = "passage",
                  dry_run: bool = False, pattern: str | None = None) -> HitCoding:
        """Code every hit's passage (``span="sentence"``: its sentence, ``"word"``: the
        hit itself) in one locked append; spans already coded so are skipped."""
        from qcode.coding.hits import code_hits

        return code_hits(self.corpus, hits, code, coder, span, dry_run, pattern)
