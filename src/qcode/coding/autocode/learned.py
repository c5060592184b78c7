"""Suggestions learned from a coder's own codings: ``qcode autocode --learn``.

For each code with enough coded passages by one coder, a text classifier (TF-IDF over word
1-2-grams and character 3-5-grams inside words, a logistic regression with balanced class
weights, calibrated probabilities when there are enough examples) is trained on that
coder's passages: positive where a coding of the code overlaps the passage, negative in the
other passages of the transcripts the coder has coded and where a suggestion of the code
was rejected. Cross-validation grouped by transcript measures it and chooses the lowest
threshold whose out-of-fold precision reaches ``MIN_PRECISION``; passages above it that the
coder has not coded so are proposed into the same suggestions log as the rules
(``record_proposals``), marked ``source: learned``. Interviewer turns are neither learned
from nor proposed. Nothing is stored but the suggestions: models are retrained each run.

scikit-learn is an optional extra (``qcode[learn]``), imported only inside these functions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qcode import progress
from qcode.analysis.scope import choose_coders, transcripts_where
from qcode.coding.autocode import record_proposals
from qcode.coding.autocode.engine import Proposal, compile_codebook, select_codes
from qcode.coding.autocode.learned_report import (
    CodeEvaluation,
    LearnResult,
    PassageRow,
    choose_threshold,
    macro_average,
    prf,
)
from qcode.coding.autocode.scoring import CodeReport, coded_passages
from qcode.errors import QcodeError, UsageError
from qcode.format.config import interviewer_matcher
from qcode.format.matching import text_areas
from qcode.format.names import check_coder_name
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.suggestions import SuggestionLog

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript
    from qcode.store.suggestions import Suggestion

RANDOM_STATE = 0
CALIBRATE_MIN = 30   # positives (and negatives) needed to calibrate the probabilities
# Passages a code is trained on, at most: past this the negatives (and, past half, the
# positives) are subsampled and weighted back (4,000: the 1,000-transcript bench within 60 s).
MAX_TRAINING = 4000
VECTORIZE_BLOCK = 5000  # passages per block of the character n-gram counts
MAX_FOLDS = 5
TOP_FEATURES = 5
INSTALL_HINT = "pip install 'qcode[learn]'"


def require_sklearn() -> None:
    """A clear error, naming the extra, when scikit-learn is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise QcodeError("learned suggestions need scikit-learn, which is not installed: "
                         f"{INSTALL_HINT}") from None


def learn(corpus: Corpus | HasCorpus, coder: str = "auto", source: str | None = None,
          codes: Iterable[str] | None = None, where: Sequence[str] = (),
          min_examples: int = 10, threshold: float | None = None, dry_run: bool = False,
          evaluate: bool = False) -> LearnResult:
    """Train one classifier per code on ``source``'s codings (default: the primary coder)
    and propose, into ``coder``'s suggestions log, the passages above each code's threshold.

    With ``evaluate`` nothing is written: the grouped cross-validation's figures are
    reported beside the rules' on the same passages. ``threshold`` fixes the threshold
    instead of choosing it from the cross-validation.
    """
    require_sklearn()
    corpus = as_corpus(corpus)
    check_coder_name(coder)
    if min_examples < 2:
        raise UsageError(f"--min-examples {min_examples} is too few to learn from",
                         "give 2 or more (default 10)")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise UsageError(f"--threshold {threshold} is not a probability",
                         "give a number from 0 to 1")
    clock = time.perf_counter()
    trainer = choose_coders(corpus, [source] if source else None)[0]
    scope = transcripts_where(corpus, where)[1] if where else corpus.transcripts
    rows = passage_rows(corpus, corpus.transcripts)
    codebook = corpus.codebook
    canonical = codebook.canonical
    wanted = [c.id for c in codebook if c.id in select_codes(codebook, codes) and c.codable]
    positives, coded_transcripts = _positives(corpus, trainer, rows, set(wanted))
    if not coded_transcripts:
        raise QcodeError(f"{trainer} has coded no passage to learn from",
                         "code some transcripts first, or name another coder with --from")
    log = SuggestionLog(corpus.store, coder)
    state = log.read()
    negatives = _rejected(state.suggestions.values(), rows, canonical)
    seconds = {"load": time.perf_counter() - clock}

    clock = time.perf_counter()
    matrix, word_names = vectorize([r.text for r in rows])
    seconds["vectorize"] = time.perf_counter() - clock

    clock = time.perf_counter()
    rule_passages = _rule_passages(corpus, wanted) if evaluate else {}
    evaluations: list[CodeEvaluation] = []
    found: list[Proposal] = []
    skipped: dict[str, int] = {}
    in_scope = {t.id for t in scope}
    coded_rows = {i for i, r in enumerate(rows) if r.transcript in coded_transcripts}
    for code in progress.track(wanted, "learning per code"):
        mine = positives.get(code, set())
        labelled = sorted(coded_rows | negatives.get(code, set()) | mine)
        if len(mine) < min_examples:
            skipped[code] = len(mine)
            continue
        sample, weights = subsample(labelled, mine)
        actual = [i in mine for i in sample]
        evaluation = train_code(matrix, sample, actual, [rows[i].transcript for i in sample],
                                threshold, weights)
        evaluation.examples, evaluation.negatives = len(mine), len(labelled) - len(mine)
        evaluation.sampled = len(sample) < len(labelled)
        evaluation.code, evaluation.label = code, codebook.require(code).label
        if code in rule_passages:
            predicted = rule_passages[code]
            evaluation.rules = prf([(rows[i].transcript, rows[i].number) in predicted
                                    for i in sample], actual, weights)
        evaluations.append(evaluation)
        if not evaluate and evaluation.threshold is not None:
            found.extend(_propose(evaluation, rows, matrix, word_names, mine, in_scope,
                                  code, trainer))
    seconds["train"] = time.perf_counter() - clock

    clock = time.perf_counter()
    reports = {code: CodeReport(code, codebook.require(code).label, 0) for code in wanted}
    new: list[Proposal] = []
    withdrawn: list[Suggestion] = []
    if not evaluate:
        new, withdrawn, _ = record_proposals(corpus, log, coder, found, reports, scope,
                                             dry_run, source="learned")
    for evaluation in evaluations:
        evaluation.report = reports[evaluation.code]
    seconds["propose"] = time.perf_counter() - clock
    return LearnResult(coder=coder, trainer=trainer, log=log.rel, dry_run=dry_run or evaluate,
                       evaluate=evaluate, transcripts=len(scope), passages=len(rows),
                       min_examples=min_examples, codes=evaluations, skipped=skipped,
                       new=new, withdrawn=withdrawn, macro=macro_average(evaluations),
                       seconds=seconds)


def passage_rows(corpus: Corpus, transcripts: list[Transcript]) -> list[PassageRow]:
    """The passages learned from and proposed for: every passage with text, but the
    interviewers' turns (qcode.yaml ``interviewer:``)."""
    is_interviewer = interviewer_matcher(corpus.config.interviewer)
    rows = []
    for transcript in transcripts:
        body = transcript.body
        passages = transcript.passages
        for passage, (start, end) in zip(passages, text_areas(body, passages), strict=True):
            if is_interviewer is not None and is_interviewer(passage.speaker):
                continue
            text = body[start:end]
            if text.strip():
                rows.append(PassageRow(transcript.id, passage.number, passage.start,
                                       passage.end, passage.speaker, text,
                                       body[passage.start:start]))
    return rows


def _positives(corpus: Corpus, coder: str, rows: list[PassageRow], wanted: set[str]
               ) -> tuple[dict[str, set[int]], set[str]]:
    """The rows each code holds for in ``coder``'s codings, and the transcripts coded."""
    index = {(r.transcript, r.number): i for i, r in enumerate(rows)}
    held, coded = coded_passages(corpus.store.replay(coder).codings, corpus.transcripts,
                                 corpus.codebook.canonical, wanted)
    positives = {code: {index[p] for p in passages if p in index}
                 for code, passages in held.items()}
    positives = {code: found for code, found in positives.items() if found}
    return positives, coded


def _rejected(suggestions: Iterable[Any], rows: list[PassageRow], canonical: Any
              ) -> dict[str, set[int]]:
    """The rows of each code's rejected suggestions: negatives, whoever coded there."""
    by_transcript: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_transcript.setdefault(row.transcript, []).append(i)
    found: dict[str, set[int]] = {}
    for suggestion in suggestions:
        if suggestion.status != "rejected":
            continue
        for i in by_transcript.get(suggestion.transcript, ()):
            if rows[i].start < suggestion.end and suggestion.start < rows[i].end:
                found.setdefault(canonical(suggestion.code), set()).add(i)
    return found


def vectorize(texts: list[str]) -> tuple[Any, list[str]]:
    """TF-IDF of word 1-2-grams and of character 3-5-grams inside word boundaries (robust
    to inflection and compounds), fitted on every passage's text (no labels are used), and
    the names of the word features (the first columns).

    The character part is ``TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)`` over
    the words that occur in at least two passages, counted once per distinct word instead
    of once per occurrence: a passage's char_wb n-grams are those of its whitespace-separated
    words, so its counts are (passages × words) @ (words × n-grams). It is built in blocks
    of passages straight into the final matrix: on 100,000 passages that is seconds instead
    of minutes, and the largest matrix is never held twice.
    """
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.preprocessing import normalize

    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2,
                            sublinear_tf=True, dtype=np.float32)
    word_matrix = words.fit_transform(texts).tocsr()
    tokens = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=True,
                             min_df=2, dtype=np.float32)
    token_counts = tokens.fit_transform(texts).tocsr()
    gram_counts = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False,
                                  dtype=np.float32).fit_transform(
                                      tokens.get_feature_names_out()).tocsr()
    count, grams = len(texts), gram_counts.shape[1]
    blocks = []
    frequency = np.zeros(grams, dtype=np.int64)
    for start in range(0, count, VECTORIZE_BLOCK):
        block = (token_counts[start:start + VECTORIZE_BLOCK] @ gram_counts).tocsr()
        frequency += np.bincount(block.indices, minlength=grams)
        blocks.append(block)
    del token_counts
    idf = (np.log((1 + count) / (1 + frequency)) + 1).astype(np.float32)  # smooth_idf
    total = word_matrix.nnz + sum(b.nnz for b in blocks)
    data = np.empty(total, dtype=np.float32)
    indices = np.empty(total, dtype=np.int32 if total < 2**31 else np.int64)
    indptr = np.zeros(count + 1, dtype=indices.dtype)
    filled = 0
    for number, block in enumerate(blocks):
        start = number * VECTORIZE_BLOCK
        block.data = np.log(block.data) + 1  # sublinear tf
        block.data *= idf[block.indices]
        normalize(block, copy=False)
        both = sp.hstack([word_matrix[start:start + block.shape[0]], block], format="csr",
                         dtype=np.float32)
        both.sort_indices()  # else every fit sorts its slice again
        data[filled:filled + both.nnz] = both.data
        indices[filled:filled + both.nnz] = both.indices
        indptr[start + 1:start + block.shape[0] + 1] = both.indptr[1:] + filled
        filled += both.nnz
        blocks[number] = None
    matrix = sp.csr_matrix((data, indices, indptr),
                           shape=(count, word_matrix.shape[1] + grams))
    matrix.has_sorted_indices = True
    return matrix, list(words.get_feature_names_out())


def subsample(labelled: list[int], positives: set[int]
              ) -> tuple[list[int], tuple[float, float]]:
    """At most ``MAX_TRAINING`` passages (half of them positive when there are that many),
    drawn with a fixed seed, and the weight of a sampled positive and negative."""
    import numpy as np

    if len(labelled) <= MAX_TRAINING:
        return labelled, (1.0, 1.0)
    mine = [i for i in labelled if i in positives]
    others = [i for i in labelled if i not in positives]
    keep_mine = min(len(mine), MAX_TRAINING // 2)
    keep_others = min(len(others), MAX_TRAINING - keep_mine)
    generator = np.random.RandomState(RANDOM_STATE)
    chosen = (generator.choice(mine, keep_mine, replace=False).tolist()
              + generator.choice(others, keep_others, replace=False).tolist())
    return sorted(chosen), (len(mine) / max(keep_mine, 1), len(others) / max(keep_others, 1))


def grouped_folds(groups: Sequence[str], labels: Sequence[bool]
                  ) -> list[tuple[list[int], list[int]]]:
    """GroupKFold by transcript, k = min(5, the transcripts with the code); none when fewer
    than two transcripts have it (cross-validation cannot hold one out)."""
    from sklearn.model_selection import GroupKFold

    holding = {g for g, y in zip(groups, labels, strict=True) if y}
    k = min(MAX_FOLDS, len(holding), len(set(groups)))
    if k < 2:
        return []
    return [(list(train), list(test)) for train, test in
            GroupKFold(n_splits=k).split(list(groups), list(labels), list(groups))]


class CodeModel:
    """One code's logistic regression and, when there were enough examples, the sigmoid
    (Platt) calibration of its scores fitted on the grouped cross-validation's
    out-of-fold scores."""

    def __init__(self, regression: Any, calibration: Any = None) -> None:
        self.regression = regression
        self.calibration = calibration

    def probabilities(self, matrix: Any) -> Any:
        return self.calibrated(self.regression.decision_function(matrix))

    def calibrated(self, scores: Any) -> Any:
        if self.calibration is None:
            import numpy as np

            return 1.0 / (1.0 + np.exp(-scores))  # the regression's own probability
        return self.calibration.predict_proba(scores.reshape(-1, 1))[:, 1]

    def weights(self) -> Any:
        return self.regression.coef_[0]


def regression(matrix: Any, labels: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    # lbfgs: on 4,000 passages × 10,000 features it is several times faster than liblinear
    return LogisticRegression(class_weight="balanced", solver="lbfgs", max_iter=1000,
                              random_state=RANDOM_STATE).fit(matrix, labels)


def train_code(matrix: Any, labelled: list[int], labels: list[bool], groups: list[str],
               threshold: float | None, weights: tuple[float, float] = (1.0, 1.0)
               ) -> CodeEvaluation:
    """Cross-validate, calibrate, choose the threshold and fit the final model for one code.
    ``weights`` (positive, negative) undo a subsample: each sampled passage stands for that
    many, in precision, recall and average precision."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    x = matrix[labelled]
    y = np.asarray(labels, dtype=bool)
    folds = grouped_folds(groups, labels)
    evaluation = CodeEvaluation(examples=int(y.sum()), negatives=int((~y).sum()),
                                transcripts=len({g for g, v in zip(groups, labels,
                                                                   strict=True) if v}),
                                folds=len(folds))
    model = CodeModel(regression(x, y))
    if folds:
        scores = np.zeros(len(labels))
        for train, test in folds:
            if y[train].all() or not y[train].any():
                scores[test] = 0.0
                continue
            scores[test] = regression(x[train], y[train]).decision_function(x[test])
        sample_weight = np.where(y, weights[0], weights[1])
        if min(int(y.sum()), int((~y).sum())) >= CALIBRATE_MIN:
            model.calibration = LogisticRegression(C=1e4).fit(
                scores.reshape(-1, 1), y, sample_weight=sample_weight)
            evaluation.calibrated = True
        oof = model.calibrated(scores)
        evaluation.average_precision = float(average_precision_score(
            y, oof, sample_weight=sample_weight))
        if threshold is None:
            evaluation.threshold = choose_threshold(oof.tolist(), labels, weights=weights)
            evaluation.threshold_from = "cross-validation"
        evaluation.learned = prf(_held_out_predictions(oof, labels, folds, threshold,
                                                       weights), labels, weights)
    if threshold is not None:
        evaluation.threshold, evaluation.threshold_from = threshold, "--threshold"
    evaluation.model = model
    return evaluation


def _held_out_predictions(oof: Any, labels: list[bool], folds: list[tuple[list[int],
                          list[int]]], threshold: float | None,
                          weights: tuple[float, float]) -> list[bool]:
    """Each fold's passages predicted at a threshold chosen without that fold's labels
    (from the other folds' out-of-fold probabilities), unless ``threshold`` is fixed: the
    threshold chosen on all of them would reach its precision by construction."""
    predicted = [False] * len(labels)
    for _, test in folds:
        at = threshold
        if at is None:
            held = set(test)
            rest = [i for i in range(len(labels)) if i not in held]
            at = choose_threshold([float(oof[i]) for i in rest], [labels[i] for i in rest],
                                  weights=weights)
        if at is not None:
            for i in test:
                predicted[i] = bool(oof[i] >= at)
    return predicted


def _propose(evaluation: CodeEvaluation, rows: list[PassageRow], matrix: Any,
             word_names: list[str], coded: set[int], in_scope: set[str], code: str,
             trainer: str) -> list[Proposal]:
    """Proposals for the rows above the threshold that ``trainer`` has not coded so."""
    import numpy as np

    # all passages at once: slicing out the candidates would copy the whole matrix
    probabilities = evaluation.model.probabilities(matrix)
    word_weights = evaluation.model.weights()[:len(word_names)]
    threshold = round(float(evaluation.threshold or 0.0), 4)
    out = []
    for row_index in np.flatnonzero(probabilities >= evaluation.threshold).tolist():
        if row_index in coded or rows[row_index].transcript not in in_scope:
            continue
        probability = probabilities[row_index]
        row = rows[row_index]
        features = _top_features(matrix[row_index], word_weights, word_names)
        out.append(Proposal(
            row.transcript, code, row.start, row.end, row.number, row.speaker, "passage",
            [f"learned from {trainer}"], _feature_spans(row, features), row.label + row.text,
            source="learned", probability=round(float(probability), 4), features=features,
            threshold=threshold))
    return out


def _top_features(vector: Any, weights: Any, names: list[str]) -> list[str]:
    """The word features of the passage with the largest positive weight × tf-idf."""
    vector = vector.tocoo()
    scored = [(weights[c] * v, names[c]) for c, v in zip(vector.col, vector.data, strict=True)
              if c < len(names) and weights[c] > 0]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [name for _, name in scored[:TOP_FEATURES]]


def _feature_spans(row: PassageRow, features: list[str]) -> list[tuple[int, int]]:
    """Where the features occur in the passage's text, as body spans (for highlighting)."""
    offset = row.end - len(row.text)
    spans = []
    for feature in features:
        pattern = r"\b" + r"\W+".join(re.escape(w) for w in feature.split()) + r"\b"
        for match in re.finditer(pattern, row.text, re.IGNORECASE):
            spans.append((offset + match.start(), offset + match.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _rule_passages(corpus: Corpus, wanted: list[str]) -> dict[str, set[tuple[str, int]]]:
    """The passages each code's rules hold for (codes without rules are absent)."""
    ruleset = compile_codebook(corpus.codebook, wanted)
    found: dict[str, set[tuple[str, int]]] = {}
    for transcript in corpus.transcripts:
        for proposal in ruleset.scan(transcript):
            found.setdefault(proposal.code, set()).add((proposal.transcript, proposal.passage))
    return found
