# SPDX-License-Identifier: MIT
"""A strict parser of the Prometheus text format 0.0.4, so that /metrics
is checked for its form as well as its values."""

import re


_PROM_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_PROM_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_PROM_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_prometheus(text):
    """Parses Prometheus text exposition format 0.0.4 strictly and returns
    {series: value}, series as `name{l="v",...}` exactly as written.
    Raises AssertionError at the first line that breaks the format: a
    sample before its family's TYPE, a family declared twice, a bad name,
    label or escape, a value that is not a float, a series given twice, or
    histogram buckets that are not cumulative up to +Inf = _count."""
    sample_re = re.compile(
        r"^(%s)(\{(?:%s=\"(?:[^\"\\\n]|\\[\\\"n])*\"(?:,%s=\"(?:[^\"\\\n]|"
        r"\\[\\\"n])*\")*)?\})? (\S+)$" % (_PROM_NAME, _PROM_LABEL,
                                         _PROM_LABEL))
    if not text.endswith("\n"):
        raise AssertionError("metrics text does not end with a newline")
    types, helps, out = {}, set(), {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % _PROM_NAME, line)
            if not m:
                raise AssertionError("bad comment: " + where)
            kw, name, rest = m.groups()
            if kw == "HELP":
                if name in helps:
                    raise AssertionError("HELP twice: " + where)
                helps.add(name)
            else:
                if name in types or rest not in _PROM_TYPES:
                    raise AssertionError("bad or repeated TYPE: " + where)
                types[name] = rest
            continue
        m = sample_re.match(line)
        if not m:
            raise AssertionError("bad sample: " + where)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = name
        if name not in types:
            for sfx in ("_bucket", "_sum", "_count"):
                base = name[:-len(sfx)]
                if name.endswith(sfx) and types.get(base) == "histogram":
                    family = base
        if family not in types or family not in helps:
            raise AssertionError("sample before its HELP/TYPE: " + where)
        if value not in ("+Inf", "-Inf", "NaN"):
            try:
                float(value)
            except ValueError:
                raise AssertionError("bad value: " + where)
        series = name + labels
        if series in out:
            raise AssertionError("series twice: " + where)
        out[series] = float(value)
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(k, v) for k, v in out.items()
                   if k.startswith(family + "_bucket{")]
        values = [v for _, v in buckets]
        if values != sorted(values) or not buckets or \
                not buckets[-1][0].endswith('le="+Inf"}') or \
                buckets[-1][1] != out.get(family + "_count"):
            raise AssertionError("histogram %s is not cumulative up to "
                                 "+Inf = _count" % family)
    return out


def metrics(cluster):
    """GET /metrics, strictly parsed."""
    r = cluster.get("/metrics")
    if r.status != 200:
        raise AssertionError("GET /metrics: %r" % r)
    return parse_prometheus(r.body)
