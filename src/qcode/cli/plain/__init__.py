"""Line mode: the dialogues of ``qcode code --plain`` (coding, reviewing suggestions,
placing orphans) and ``qcode adjudicate --plain``, for screen readers, slow links and
scripts (a file of answers drives each one).

Every dialogue presents a library object (``CodingSession``, ``Review``,
``OrphanReview``, ``Adjudication``) and talks through one ``Dialogue``; every answer is
saved by the library before the next question is shown.
"""
