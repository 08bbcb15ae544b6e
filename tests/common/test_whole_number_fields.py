"""The API's and the forms' integer fields read text by the one parser (common.integers):
``٣`` (3 to ``int()``), ``1_0`` (10 to ``int()``), ``³`` and a sign where none is allowed are
refused with the field's own "not a whole number" error; numbers are read as before."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as FormError
from rest_framework.exceptions import ValidationError

from common.api import WholeNumberField
from common.integers import BadParameter, NotWholeNumber, WholeNumberFormField, id_or_none, int_param, whole_number

REFUSED = ["³", "٣", "1_0", "3.5", "3e2", "0x10", "9" * 41]


@pytest.mark.parametrize("text", REFUSED)
def test_the_api_field_refuses_what_int_takes(text):
    with pytest.raises(ValidationError) as caught:
        WholeNumberField(min_value=0, max_value=10**6).run_validation(text)
    assert caught.value.detail[0].code == "invalid"


@pytest.mark.parametrize("text", REFUSED)
def test_the_form_field_refuses_what_int_takes(text):
    field = WholeNumberFormField(min_value=0, required=True)
    with pytest.raises(FormError):
        field.clean(text)


@pytest.mark.parametrize(("given", "read"), [("3", 3), (" 42 ", 42), (7, 7), ("0", 0), (1000000, 1000000)])
def test_numbers_are_read_as_before(given, read):
    assert WholeNumberField(min_value=0, max_value=10**6).run_validation(given) == read
    assert WholeNumberFormField(min_value=0).clean(given) == read


def test_a_signed_number_meets_the_range_as_before():
    assert WholeNumberFormField().clean("-3") == -3
    assert WholeNumberField(min_value=-5).run_validation("+3") == 3
    with pytest.raises(ValidationError) as below:
        WholeNumberField(min_value=0).run_validation("-3")
    with pytest.raises(ValidationError) as above:
        WholeNumberField(min_value=0, max_value=1000).run_validation(1001)
    assert (below.value.detail[0].code, above.value.detail[0].code) == ("min_value", "max_value")


@pytest.mark.parametrize("text", ["³", "٣", "-1", "+1", "1_0", "99999999999999999999", "9" * 60])
def test_a_parameter_is_refused_naming_it(text):
    with pytest.raises(BadParameter) as caught:
        int_param(text, name="rows")
    assert caught.value.name == "rows" and caught.value.message
    assert id_or_none(text) is None
    with pytest.raises(NotWholeNumber):
        whole_number(text)


def test_an_absent_parameter_is_the_default():
    assert int_param(None, name="rows", default=1) == 1
    assert int_param("", name="rows", default=1) == 1
    assert int_param("20", name="rows", default=1) == 20
