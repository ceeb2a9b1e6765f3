"""Reference data shipped with the code: static, versioned files (Kemendagri region codes) and their loaders.

It lives in shared, not in one service, because it is not anyone's state: it changes only with a new release of the
code (a new Kepmendagri), and both routing_svc (which serves it and flags unknown regions) and intake_svc (which warns
a reporter about an unknown `region_code`) read the same file. Data that changes at run time (the category tree)
belongs to a service and travels as events instead.
"""
