"""The clinics' monthly file (医療機関からの接種記録ファイル): read → match → preview → commit.

``layout``: the columns; ``reading``: bytes to rows (encoding, header, size); ``rows``: each row's
values checked against the masters held in memory; ``matching``: rows to persons in a few queries;
``services``: upload, preview, commit, the review queue and the fee reconciliation, all audited.
"""
