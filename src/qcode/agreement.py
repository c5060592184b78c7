"""The intercoder agreement statistics, at the path the README documents.

They live in ``qcode.analysis.agreement``; this module re-exports them unchanged.
"""

from qcode.analysis.agreement import (
    LEVELS,
    WEIGHTS,
    AgreementResult,
    UnitCounts,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    gwet_ac1,
    is_missing,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

__all__ = ["LEVELS", "WEIGHTS", "AgreementResult", "UnitCounts", "brennan_prediger",
           "cohen_kappa", "cohen_kappa_table", "fleiss_kappa", "gwet_ac1", "is_missing",
           "krippendorff_alpha", "percent_agreement", "scott_pi"]
