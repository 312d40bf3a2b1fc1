from flows.filing import quarterly_filing

__all__ = ["quarterly_filing"]
