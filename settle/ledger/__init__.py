"""The settlement ledger: an append-only, hash-chained history of verdicts, and the memory it answers.

This package stores and answers. It knows verdicts as data (the documents settle
printed), never how they are made: nothing here imports the diff or parse stages.
"""
