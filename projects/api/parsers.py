"""JSON in and out that never turns a client's malformed input into a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer


class SafeJSONParser(JSONParser):
    """DRF's JSON parser; a body nested too deeply for Python is a parse error like any other."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class SafeJSONRenderer(JSONRenderer):
    """DRF's JSON renderer (UTF-8 text); output that cannot be UTF-8, such as a lone surrogate
    echoed back from a bad request in an error, is escaped as \\uXXXX instead of failing."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True
            try:
                return super().render(data, accepted_media_type, renderer_context)
            finally:
                self.ensure_ascii = False
