"""One writer per export format, each reading the report model (:mod:`pipeline.report`).

=================  ==========================================================================
``tables``         the run's tables for people (Danish headers, Excel formats) and programs
``csv``            theme_frequencies.csv, topics.csv, quotes.csv, assignments.csv, ``data/``
``xlsx``           theme_frequencies.xlsx, quotes.xlsx, workshop_themes.xlsx
``docx``           quotes.docx
``markdown``       quotes.md, emerging_topics.md
``charts``         theme_shares.png, workshop_themes.png
``html``           report.html, from ``templates/`` (``html_figures``: its plotly figures)
=================  ==========================================================================

:func:`pipeline.export.write_run` makes the run folder with them.
"""
