"""What ``qcode init`` writes: a small, valid project to start from."""

from __future__ import annotations

CONFIG = """\
# qcode project file: see docs/format.md
name: {name}
codebook: codebooks/codebook.yaml
transcripts: transcripts          # searched recursively for *.md and *.txt
codings: codings                  # one append-only <coder>.jsonl per coder
segmentation: turns               # turns | paragraphs | lines
# cases:                          # tables of case attributes, joined by key
#   - file: cases/cases.csv
#     key: site
attributes: {{}}
#   site: {{required: true}}
#   informant_group: {{required: true, values: [manager, employee]}}
# primary_coder: coder-a
"""

CODEBOOK = """\
name: {name}
version: "0.1"
codes:
  - id: motivation
    label: Motivation
    key: a
    color: "#1f77b4"
    description: >-
      Why the informant or the organisation took up the activity.
    include: >-
      Reasons, motives and expectations stated by the informant.
    exclude: >-
      What actually came out of it: use outcomes.
    examples:
      - "We started because our pupils asked for it."
    keywords: [why, reason, motive]
  - id: outcomes
    label: Outcomes
    codable: false
    color: "#2ca02c"
    description: >-
      Grouping folder for what came out of the activity.
    children:
      - id: outcomes-personal
        label: Personal outcomes
        key: p
        color: "#98df8a"
        description: >-
          Changes in confidence, independence or maturity.
        examples:
          - "She came back much more sure of herself."
        keywords: [confidence, independent]
"""

GITIGNORE = """\
.qcode/
exports/
"""
