"""Training API mixed into ``Model``: compile / fit / evaluate / predict."""

from __future__ import annotations


class Trainer:
    def __init__(self):
        self.__dict__["compiled"] = False
