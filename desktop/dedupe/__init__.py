"""One customer, one record: the duplicate check (no Qt).

`names` splits a company name into brand and weak parts, `identifiers` puts phones,
emails and credit codes in one form, `match` scores two records with reasons, `index`
keeps the blocking keys in the store, `service` checks one record or the whole book.
"""
