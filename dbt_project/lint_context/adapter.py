"""sqlfluff's stand-in for dbt's `adapter`: a dispatched macro lints as a call of a function of its name."""


def dispatch(macro_name, macro_namespace=None):
    return lambda *args: f"{macro_name}({', '.join(str(arg) for arg in args)})"


def get_relation(database=None, schema=None, identifier=None):
    return None
