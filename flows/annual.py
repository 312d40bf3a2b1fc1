from flows.filing import annual_self_inspection

__all__ = ["annual_self_inspection"]
