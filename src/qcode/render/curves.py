"""Curves drawn from analysis frames: the saturation curve (``qcode saturation --plot``).

matplotlib is imported inside the function (Agg, no display); labels are drawn as the
text they are, as in ``qcode.render.tables.heatmap_bytes``.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from qcode.format.text import printable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def saturation_curve_bytes(frame: pd.DataFrame, suffix: str, title: str) -> bytes:
    """The cumulative number of distinct codes over the transcripts in order, as a step
    curve (PNG or SVG bytes), with each transcript's new codes as bars beneath it and
    the transcript ids as x labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"text.parse_math": False, "text.usetex": False}), \
            warnings.catch_warnings():
        # A character the font lacks is drawn as a box; its warning would only be noise.
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        positions = frame["position"].tolist()
        cumulative = frame["cumulative"].tolist()
        labels = [printable(str(t)) for t in frame["transcript"].tolist()]
        longest = max((len(label) for label in labels), default=10)
        width = min(30.0, max(6.0, 0.3 * len(labels) + 2))
        height = min(12.0, 4.0 + 0.07 * longest)
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            ax.bar(positions, frame["new"].tolist(), color="#9ecae1", width=0.6,
                   label="new codes")
            # "post": the count reached at a transcript holds until the next one adds more
            ax.step([0, *positions], [0, *cumulative], where="post", color="#08519c",
                    label="distinct codes so far")
            ax.plot(positions, cumulative, "o", color="#08519c", markersize=3)
            ax.set_xticks(positions, labels, rotation=90, fontsize=7)
            ax.set_xlim(0.4, max(positions, default=0) + 0.6)
            ax.set_ylim(0, max(cumulative, default=0) * 1.05 + 1)
            ax.set_xlabel("transcripts in order")
            ax.set_ylabel("codes")
            ax.set_title(printable(title), fontsize=10)
            ax.legend(loc="lower right", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, dpi=150, format=suffix.lower().lstrip("."))
        finally:
            plt.close(fig)
    return out.getvalue()
