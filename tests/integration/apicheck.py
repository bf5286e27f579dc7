# SPDX-License-Identifier: MIT
"""Checks real REST answers against docs/rest-api.yaml.

The OpenAPI file is read with a small loader for the block YAML it is
written in (maps, lists, one-line scalars: the standard library has no
YAML), and each answer's body is validated against the JSON Schema that
the file names for its path, method and status, with a validator of the
JSON Schema subset the schemas in schema/json use. A keyword this
validator does not know fails loudly, so the subset cannot silently
shrink what is checked."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "docs" / "rest-api.yaml"


# ---------------------------------------------------------------- YAML

def _scalar(text):
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise ValueError("unterminated string: %r" % text)
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        return json.loads(text)
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _split_key(line):
    """'key: value' -> (key, value or None); the key may be quoted."""
    if line.startswith("'"):
        end = line.index("'", 1)
        while line[end + 1:end + 2] == "'":
            end = line.index("'", end + 2)
        key = _scalar(line[:end + 1])
        rest = line[end + 1:]
    else:
        i = line.index(":")
        key, rest = line[:i], line[i:]
    if not rest.startswith(":"):
        raise ValueError("not a mapping entry: %r" % line)
    rest = rest[1:].strip()
    return key, (rest if rest else None)


def load_yaml(text):
    lines = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        lines.append((indent, raw.strip()))
    pos = [0]

    def block(indent):
        if pos[0] >= len(lines):
            return None
        if lines[pos[0]][1].startswith("- "):
            return seq(indent)
        return mapping(indent)

    def mapping(indent, first=None):
        out = {}
        if first is not None:
            key, val = _split_key(first)
            out[key] = _scalar(val) if val is not None else \
                block(lines[pos[0]][0]) if pos[0] < len(lines) else None
        while pos[0] < len(lines) and lines[pos[0]][0] == indent and \
                not lines[pos[0]][1].startswith("- "):
            key, val = _split_key(lines[pos[0]][1])
            pos[0] += 1
            if val is not None:
                out[key] = _scalar(val)
            else:
                out[key] = block(lines[pos[0]][0])
        return out

    def seq(indent):
        out = []
        while pos[0] < len(lines) and lines[pos[0]][0] == indent and \
                lines[pos[0]][1].startswith("- "):
            item = lines[pos[0]][1][2:]
            pos[0] += 1
            if re.match(r"^('[^']*'|[A-Za-z0-9_$-]+):( |$)", item):
                out.append(mapping(indent + 2, first=item))
            else:
                out.append(_scalar(item))
        return out

    doc = block(0)
    if pos[0] != len(lines):
        raise ValueError("YAML not understood at: %r" % (lines[pos[0]],))
    return doc


# ----------------------------------------------------------- validator

_SCHEMAS = {}


def _load_schema(path):
    path = Path(path).resolve()
    if path not in _SCHEMAS:
        _SCHEMAS[path] = json.loads(path.read_text())
    return _SCHEMAS[path]


def _resolve(ref, base):
    file_part, _, frag = ref.partition("#")
    path = (base.parent / file_part).resolve() if file_part else base
    node = _load_schema(path)
    for part in [p for p in frag.split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, path


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and
    not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_IGNORED = {"$schema", "$id", "title", "description", "$defs", "default",
            "examples", "$comment"}


def errors(value, schema, base, path="$"):
    """The list of reasons `value` fails `schema` (empty: valid)."""
    if schema is True:
        return []
    if schema is False:
        return ["%s: not allowed" % path]
    errs = []
    for key, arg in schema.items():
        if key in _IGNORED:
            continue
        if key == "$ref":
            sub, sub_base = _resolve(arg, base)
            errs += errors(value, sub, sub_base, path)
        elif key == "type":
            kinds = arg if isinstance(arg, list) else [arg]
            if not any(_TYPES[k](value) for k in kinds):
                errs.append("%s: not of type %s" % (path, arg))
        elif key == "enum":
            if value not in arg:
                errs.append("%s: %r not in %r" % (path, value, arg))
        elif key == "const":
            if value != arg or type(value) is not type(arg):
                errs.append("%s: %r is not %r" % (path, value, arg))
        elif key == "pattern":
            if isinstance(value, str) and not re.search(arg, value):
                errs.append("%s: %r does not match %s" % (path, value, arg))
        elif key in ("minimum", "maximum"):
            if _TYPES["number"](value) and \
                    (value < arg if key == "minimum" else value > arg):
                errs.append("%s: %r out of %s %r" % (path, value, key, arg))
        elif key in ("minLength", "maxLength"):
            if isinstance(value, str) and \
                    (len(value) < arg if key == "minLength"
                     else len(value) > arg):
                errs.append("%s: length out of %s" % (path, key))
        elif key in ("minItems", "maxItems"):
            if isinstance(value, list) and \
                    (len(value) < arg if key == "minItems"
                     else len(value) > arg):
                errs.append("%s: item count out of %s" % (path, key))
        elif key in ("minProperties", "maxProperties"):
            if isinstance(value, dict) and \
                    (len(value) < arg if key == "minProperties"
                     else len(value) > arg):
                errs.append("%s: member count out of %s" % (path, key))
        elif key == "uniqueItems":
            if arg and isinstance(value, list):
                seen = [json.dumps(v, sort_keys=True) for v in value]
                if len(set(seen)) != len(seen):
                    errs.append("%s: items not unique" % path)
        elif key == "required":
            if isinstance(value, dict):
                errs += ["%s: %s missing" % (path, k) for k in arg
                         if k not in value]
        elif key == "properties":
            if isinstance(value, dict):
                for k, sub in arg.items():
                    if k in value:
                        errs += errors(value[k], sub, base,
                                       "%s.%s" % (path, k))
        elif key == "additionalProperties":
            if isinstance(value, dict):
                known = set(schema.get("properties", {}))
                for k, v in value.items():
                    if k not in known:
                        errs += errors(v, arg, base, "%s.%s" % (path, k))
        elif key == "propertyNames":
            if isinstance(value, dict):
                for k in value:
                    errs += errors(k, arg, base, "%s{%s}" % (path, k))
        elif key == "items":
            if isinstance(value, list):
                for i, v in enumerate(value):
                    errs += errors(v, arg, base, "%s[%d]" % (path, i))
        elif key == "allOf":
            for sub in arg:
                errs += errors(value, sub, base, path)
        elif key == "anyOf":
            if all(errors(value, sub, base, path) for sub in arg):
                errs.append("%s: matches none of anyOf" % path)
        elif key == "oneOf":
            n = sum(1 for sub in arg if not errors(value, sub, base, path))
            if n != 1:
                errs.append("%s: matches %d of oneOf" % (path, n))
        elif key == "not":
            if not errors(value, arg, base, path):
                errs.append("%s: matches a 'not'" % path)
        elif key == "if":
            branch = "then" if not errors(value, arg, base, path) \
                else "else"
            if branch in schema:
                errs += errors(value, schema[branch], base, path)
        elif key in ("then", "else"):
            continue
        else:
            raise AssertionError("JSON Schema keyword %r is not supported "
                                 "by apicheck" % key)
    return errs


# ------------------------------------------------------------- the API

class Api:
    def __init__(self, path=API):
        self.doc = load_yaml(Path(path).read_text())

    def _deref(self, node):
        """Follows a local $ref (#/components/...)."""
        while isinstance(node, dict) and "$ref" in node and \
                node["$ref"].startswith("#/"):
            target = self.doc
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def response(self, template, method, status):
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        if op is None:
            # A method the path does not have: only 405 is right.
            if status != 405:
                raise AssertionError("%s %s: %s for a method the API "
                                     "does not describe" % (
                                         method, template, status))
            return self._deref({"$ref": "#/components/responses/"
                                        "MethodNotAllowed"})
        resp = op["responses"].get(str(status))
        if resp is None:
            raise AssertionError("%s %s: status %s is not described in "
                                 "rest-api.yaml" % (method, template,
                                                    status))
        return self._deref(resp)

    def schema_for(self, template, method, status, content_type):
        resp = self.response(template, method, status)
        media = content_type.split(";")[0].strip()
        content = resp.get("content", {})
        if media not in content:
            raise AssertionError("%s %s %s: content type %s not described"
                                 % (method, template, status, media))
        return content[media]["schema"]

    def check(self, template, method, status, content_type, body):
        """Raises AssertionError unless `body` (text) is what the API
        description promises for that path, method and status."""
        schema = self.schema_for(template, method, status, content_type)
        if "$ref" not in schema:
            return  # an inline schema: text/plain
        ref = schema["$ref"]
        base = (API.parent / ref).resolve()
        value = json.loads(body)
        errs = errors(value, _load_schema(base), base)
        if errs:
            raise AssertionError("%s %s %s: body does not match %s: %s\n%s"
                                 % (method, template, status, ref,
                                    "; ".join(errs[:5]), body[:2000]))
