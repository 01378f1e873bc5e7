"""The openapi-core request validator ``contract.py`` uses, with caches (imported only when a
request is first validated: openapi-core is an optional dependency of the sandbox).

openapi-core finds the path, builds schema validators and walks an operation's parameter list on
every request; here each is done once per operation/schema, and a parameter's outcome is
remembered per raw value (values repeat a lot). Results are the same as openapi-core's.
"""

from __future__ import annotations

from typing import Any

from openapi_core import V30RequestValidator
from openapi_core.datatypes import Parameters
from openapi_core.validation.request.exceptions import (
    MissingParameter,
    ParametersError,
    ParameterValidationError,
)

#: ``(name, location, required, parameter)`` of one operation, path parameters included.
ParamList = list[tuple[str, str, bool, Any]]


class CachedRequestValidator(V30RequestValidator):
    """openapi-core's V30 request validator, with what repeats cached (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._found: dict[tuple[str, str], Any] = {}
        self._schema_validators: dict[str, Any] = {}
        self._param_lists: dict[str, ParamList] = {}
        # (operation, name, location, raw values) -> (ok, value or error): values repeat a lot.
        self._param_memo: dict[tuple[Any, ...], tuple[bool | None, Any]] = {}

    def _find_path(self, request: Any) -> Any:
        key = (request.method, request.path_pattern)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = super()._find_path(request)
        return found

    def _schema_validator(self, schema: Any) -> Any:
        key = schema.as_uri()
        validator = self._schema_validators.get(key)
        if validator is None:
            validator = self._schema_validators[key] = self.schema_validators_factory.create(
                self.spec,
                schema,
                format_validators=self.format_validators,
                extra_format_validators=self.extra_format_validators,
                forbid_unspecified_additional_properties=self.forbid_unspecified_additional_properties,
                enforce_properties_required=self.enforce_properties_required,
            )
        return validator

    def _validate_schema(self, schema: Any, value: Any) -> None:
        self._schema_validator(schema).validate(value)

    def _deserialise_media_type(self, media_type: Any, mimetype: str, parameters: Any, value: bytes) -> Any:
        # openapi-core builds a new schema validator (a new class when additional properties are
        # forbidden) for every body; reuse one per schema instead.
        schema = media_type.get("schema")
        encoding = media_type.get("encoding") if "encoding" in media_type else None
        deserializer = self.media_type_deserializers_factory.create(
            self.spec,
            mimetype,
            schema=schema,
            schema_validator=self._schema_validator(schema) if schema is not None else None,
            parameters=parameters,
            encoding=encoding,
            extra_media_type_deserializers=self.extra_media_type_deserializers,
        )
        return deserializer.deserialize(value)

    def _parameter_outcome(
        self, parameters: Any, param: Any, memo_key: tuple[Any, ...]
    ) -> tuple[bool | None, Any]:
        # (True, value), (None, None) when absent, or (False, the validation error).
        outcome = self._param_memo.get(memo_key)
        if outcome is None:
            try:
                outcome = (True, self._get_parameter(parameters, param))
            except MissingParameter:
                outcome = (None, None)
            except ParameterValidationError as exc:
                outcome = (False, exc)
            if len(self._param_memo) > 8192:
                self._param_memo.clear()
            self._param_memo[memo_key] = outcome
        return outcome

    def _get_parameters(self, parameters: Any, operation: Any, path: Any) -> Any:
        # Same result as openapi-core's, but only looks at parameters that are present or
        # required: absent optional ones cost nothing (a list operation declares nine).
        key = operation.as_uri()
        plist = self._param_lists.get(key)
        if plist is None:
            plist = self._param_lists[key] = _param_list(operation, path)
        errors: list[ParameterValidationError] = []
        validated = Parameters()
        for name, location, required, param in plist:
            source = parameters[location]
            if not required and name not in source:
                continue
            raw = tuple(source.getlist(name)) if hasattr(source, "getlist") else (source.get(name),)
            memo_key = (key, name, location, raw)
            ok, value = self._parameter_outcome(parameters, param, memo_key)
            if ok is None:
                continue
            if ok is False:
                errors.append(value)
                continue
            getattr(validated, location)[name] = value
        if errors:
            raise ParametersError(errors=errors, parameters=validated)
        return validated


def _param_list(operation: Any, path: Any) -> ParamList:
    plist: ParamList = []
    seen = set()
    for source in (operation.get("parameters", []), path.get("parameters", [])):
        for param in source:
            name = (param / "name").read_str()
            location = (param / "in").read_str()
            if (name, location) in seen:
                continue
            seen.add((name, location))
            plist.append((name, location, (param / "required").read_bool(default=False), param))
    return plist
