"""sqlfluff's stand-in for dbt's `dbt` namespace (`make lint` only; dbt never reads this folder): each
cross-database macro the project calls, rendered as its DuckDB SQL, so the models lint as they compile."""


def type_string():
    return "varchar"


def type_bigint():
    return "bigint"


def type_boolean():
    return "boolean"


def type_timestamp():
    return "timestamp"


def concat(fields):
    return " || ".join(fields)


def hash(field):
    return f"md5(cast({field} as varchar))"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def date_spine(datepart, start_date, end_date):
    return f"select unnest(generate_series({start_date}, {end_date}, interval 1 {datepart})) as date_{datepart}"
